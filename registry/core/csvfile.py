"""The one CSV writer: every CSV the registry writes goes through it, formula cells defused.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula: a source id of ``=HYPERLINK(...)`` becomes a live link in
the steward's spreadsheet (CSV injection). Text starting so gets a leading ``'``, which the
spreadsheet shows as text; numbers are written as numbers (``-1`` is a number, not a formula).
A row holding a line break in a cell is written fully quoted: ``csv`` quotes only the
characters of its own line terminator, so a bare CR under ``"\n"`` endings would otherwise
start a new row in the spreadsheet, whose first cell could again be a formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, Protocol

#: Spreadsheets run cells starting with these as formulas; such text is prefixed with '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """A cell no spreadsheet runs: None as empty, lists and mappings as JSON, formulas quoted."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        value = json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell passes :func:`safe_cell`."""

    def __init__(self, handle: _Writable, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)
        self._quoted = csv.writer(handle, **{**options, "quoting": csv.QUOTE_ALL})

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row of defused cells."""
        cells = [safe_cell(value) for value in row]
        if any(isinstance(c, str) and ("\r" in c or "\n" in c) for c in cells):
            self._quoted.writerow(cells)
        else:
            self._writer.writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write rows of defused cells."""
        for row in rows:
            self.writerow(row)


def csv_writer(handle: _Writable, **options: Any) -> SafeWriter:
    """A CSV writer on ``handle`` (``csv.writer`` options) that defuses formula cells."""
    return SafeWriter(handle, **options)
