"""Readers for export files: CSV (encoding and delimiter configurable) and XLSX (streamed).

Both give the header and then (row number, cell values) pairs; row numbers are 1-based with
the header as row 1, as a spreadsheet shows them. Blank rows are skipped (their numbers too).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from registry.errors import InvalidInput
from registry.imports.mapping import ColumnMapping

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


@contextmanager
def open_rows(
    stream: IO[bytes], kind: str, mapping: ColumnMapping
) -> Iterator[tuple[list[Any], Rows]]:
    """(header, rows) of a CSV or XLSX stream; a file that cannot be read is a 422."""
    stream.seek(0)
    if kind == "xlsx":
        with _xlsx_rows(stream, mapping.sheet) as opened:
            yield opened
        return
    text = io.TextIOWrapper(
        stream,
        encoding=mapping.encoding,
        errors="strict",
        newline="",
    )
    try:
        yield _csv_rows(text, mapping.encoding, mapping.delimiter)
    finally:
        text.detach()  # the caller owns the stream


def _csv_rows(text: IO[str], encoding: str, delimiter: str) -> tuple[list[Any], Rows]:
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"cannot read the file's header as {encoding} CSV: {exc}") from exc
    if header is None or _blank(header):
        raise InvalidInput("the file is empty: no header row")

    def rows() -> Rows:
        number = 1
        try:
            for number, values in enumerate(reader, start=2):
                if values and not _blank(values):
                    yield number, values
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"the file is not valid {encoding} (near row {number + 1}): {exc.reason}"
            ) from exc
        except csv.Error as exc:
            raise InvalidInput(f"row {number + 1} of the file is not valid CSV: {exc}") from exc

    return header, rows()


@contextmanager
def _xlsx_rows(stream: IO[bytes], sheet: str | None) -> Iterator[tuple[list[Any], Rows]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InvalidInput(f"the file is not a readable XLSX workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InvalidInput(
                f"the workbook has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        cells = ws.iter_rows(values_only=True)
        header = next(cells, None)
        if header is None or _blank(header):
            raise InvalidInput("the sheet is empty: no header row")

        def rows() -> Rows:
            for number, values in enumerate(cells, start=2):
                if not _blank(values):
                    yield number, list(values)

        yield list(header), rows()
    finally:
        book.close()
