"""Readers for export files: CSV (encoding and delimiter configurable) and XLSX (streamed).

Both give the header and then (row number, cell values) pairs; row numbers are 1-based with
the header as row 1, as a spreadsheet shows them. Blank rows are skipped (their numbers too).
Every reader is bounded (registry/imports/limits.py): rows, columns, characters of a cell and
of a record; workbooks are read by registry/imports/xlsx.py, one row in memory at a time.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from registry.core.errors import InvalidInput
from registry.imports.limits import LIMITS, ImportLimits, count
from registry.imports.mapping import ColumnMapping, text_encoding

_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """A file's SHA-256, its format (sniffed, not from the name), and its rows (CSV: about)."""

    sha256: str
    kind: str
    size: int
    approx_rows: int


def fingerprint(stream: IO[bytes]) -> Fingerprint:
    """Hash a seekable binary stream and sniff its format; the stream is rewound."""
    stream.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    lines = 0
    last = b""
    while chunk := stream.read(_CHUNK):
        if not head:
            head = chunk[:4]
        digest.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    stream.seek(0)
    if last and last != b"\n":
        lines += 1
    kind = "xlsx" if head == _ZIP_MAGIC else "csv"
    approx = max(lines - 1, 0) if kind == "csv" else 0  # unknown for a workbook
    return Fingerprint(digest.hexdigest(), kind, size, approx)


def _blank(values: list[Any] | tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


Rows = Iterator[tuple[int, list[Any]]]
_BOMS = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)}


@contextmanager
def open_rows(
    stream: IO[bytes], kind: str, mapping: ColumnMapping, limits: ImportLimits = LIMITS
) -> Iterator[tuple[list[Any], Rows]]:
    """(header, rows) of a CSV or XLSX stream, every row bounded; a file that cannot be read,
    or that passes a limit, is a 422 naming it."""
    stream.seek(0)
    if kind == "xlsx":
        with _xlsx_rows(stream, mapping.sheet, limits) as opened:
            yield opened
        return
    encoding = text_encoding(mapping.encoding)
    if encoding is None:  # parse_mapping refuses these; a mapping built in code may not
        raise InvalidInput(f"csv.encoding: {mapping.encoding!r} is not an allowed text encoding")
    marks = _BOMS.get(encoding)
    if marks and stream.read(2) not in marks:
        raise InvalidInput(
            f"csv.encoding: the file does not start with a {encoding.upper()} byte-order mark; "
            f"name the byte order ({encoding}-le or {encoding}-be)",
            errors=[{"field": "csv.encoding", "code": "no_byte_order_mark", "message": "no BOM"}],
        )
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    try:
        yield _csv_rows(_Lines(text, limits.record_chars), encoding, mapping.delimiter, limits)
    finally:
        text.detach()  # the caller owns the stream


class _Lines:
    """The lines of a text stream for csv.reader, no record longer than `limit` characters."""

    def __init__(self, text: IO[str], limit: int) -> None:
        self.text = text
        self.limit = limit
        self.used = 0
        self.record = 1

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.limit - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.limit:
            raise InvalidInput(
                f"row {self.record} of the file is longer than {count(self.limit)} characters"
            )
        return line

    def next_record(self) -> None:
        """The record read so far is complete: the next one gets the whole allowance."""
        self.used = 0
        self.record += 1


def _decoding_error(encoding: str, where: str, exc: UnicodeError) -> InvalidInput:
    reason = getattr(exc, "reason", str(exc))
    return InvalidInput(
        f"csv.encoding: the file is not valid {encoding} ({where}): {reason}",
        errors=[{"field": "csv.encoding", "code": "invalid_encoding", "message": str(reason)}],
    )


def _check_row(number: int, values: list[Any], limits: ImportLimits) -> None:
    if len(values) > limits.columns:
        raise InvalidInput(
            f"row {number} of the file has {count(len(values))} columns; "
            f"at most {count(limits.columns)} are read"
        )
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and len(value) > limits.cell_chars:
            raise InvalidInput(
                f"row {number}, column {column} of the file has more than "
                f"{count(limits.cell_chars)} characters"
            )


def _csv_rows(
    lines: _Lines, encoding: str, delimiter: str, limits: ImportLimits
) -> tuple[list[Any], Rows]:
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    try:
        header = next(reader, None)
    except UnicodeError as exc:
        raise _decoding_error(encoding, "its header", exc) from exc
    except csv.Error as exc:
        raise InvalidInput(f"cannot read the file's header as {encoding} CSV: {exc}") from exc
    if header is None or _blank(header):
        raise InvalidInput("the file is empty: no header row")
    _check_row(1, header, limits)
    lines.next_record()

    def rows() -> Rows:
        number = 1
        try:
            for number, values in enumerate(reader, start=2):
                if number > limits.csv_rows:
                    raise InvalidInput(
                        f"the file has more than {count(limits.csv_rows)} rows (blank rows count)"
                    )
                lines.next_record()
                _check_row(number, values, limits)
                if values and not _blank(values):
                    yield number, values
        except UnicodeError as exc:
            raise _decoding_error(encoding, f"near row {number + 1}", exc) from exc
        except csv.Error as exc:
            raise InvalidInput(f"row {number + 1} of the file is not valid CSV: {exc}") from exc

    return header, rows()


@contextmanager
def _xlsx_rows(
    stream: IO[bytes], sheet: str | None, limits: ImportLimits
) -> Iterator[tuple[list[Any], Rows]]:
    from registry.imports.xlsx import open_workbook, sheet_rows

    book = open_workbook(stream, limits)
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InvalidInput(
                f"the workbook has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        if not book.worksheets:
            raise InvalidInput("the workbook has no worksheet")
        chosen = book[sheet] if sheet is not None else book.worksheets[0]
        cells = sheet_rows(book, chosen, limits)
        first = next(cells, None)
        if first is None or first[0] != 1 or _blank(first[1]):
            raise InvalidInput("the sheet is empty: no header row")
        header = first[1]

        def rows() -> Rows:
            for number, values in cells:
                if not _blank(values):
                    yield number, values

        yield list(header), rows()
    finally:
        book.close()
