"""XLSX in bounded memory: the archive checked before openpyxl reads it, strings and rows streamed.

openpyxl's read-only mode still holds what it parses: every cleared row element stays in the
tree and rows with a height set are kept as row dimensions (3 million empty rows: 1.2 GB), and
the shared-strings table is built whatever its size (a 1 MB bomb: 4 GB). So openpyxl reads only
the small parts here (manifest, workbook, styles: each bounded in bytes and XML elements) and
the shared strings and the sheet's rows are parsed by this module, holding one row at a time.
openpyxl still turns each cell into its value (types, shared strings, dates by style).
"""

from __future__ import annotations

import contextlib
import struct
import zipfile
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, SubElement, iterparse
from xml.parsers import expat

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from registry.core.errors import InvalidInput
from registry.imports.limits import ImportLimits, MiB, count, size

_MAIN = "{" + SHEET_MAIN_NS + "}"
_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_CHUNK = 64 * 1024

Row = tuple[int, list[Any]]


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(f"the workbook is refused: {message}")


def _part(name: str) -> str:
    return repr("".join(c for c in name if c.isprintable())[:100])


def _check_directory(stream: IO[bytes], limits: ImportLimits) -> None:
    """Bound the ZIP's central directory before zipfile reads it (as zipfile finds it)."""
    stream.seek(0, 2)
    end = stream.tell()
    tail_size = min(end, 22 + 0xFFFF)
    stream.seek(end - tail_size)
    tail = stream.read(tail_size)
    stream.seek(0)
    at = len(tail) - 22
    if not (at >= 0 and tail[at : at + 4] == _END_OF_DIRECTORY and tail[-2:] == b"\0\0"):
        at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return  # no ZIP directory: zipfile refuses it
    entries, directory = struct.unpack("<HL", tail[at + 10 : at + 16])
    zip64 = tail[max(at - 20, 0) : at].startswith(_ZIP64_LOCATOR)
    if zip64 or entries == 0xFFFF or directory == 0xFFFFFFFF:
        raise _refuse("ZIP64 archives are not read (no export needs one)")
    if entries > limits.xlsx_parts or directory > limits.xlsx_directory_bytes:
        raise _refuse(
            f"it has {count(entries)} parts in a directory of {size(directory)} "
            f"(at most {count(limits.xlsx_parts)} parts, {size(limits.xlsx_directory_bytes)})"
        )


class _Archive(zipfile.ZipFile):
    """The workbook's ZIP with every part bounded; a part read whole is bounded in elements."""

    def __init__(self, stream: IO[bytes], limits: ImportLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        parts = self.infolist()
        if len(parts) > limits.xlsx_parts:
            raise _refuse(f"it has more than {count(limits.xlsx_parts)} parts")
        total = 0
        for info in parts:
            total += info.file_size
            if info.file_size > limits.xlsx_sheet_bytes:
                raise _refuse(
                    f"part {_part(info.filename)} unpacks to {size(info.file_size)} "
                    f"(at most {size(limits.xlsx_sheet_bytes)})"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MiB and ratio > limits.xlsx_ratio:
                raise _refuse(
                    f"part {_part(info.filename)} unpacks to {size(info.file_size)} from "
                    f"{size(info.compress_size)}: compressed {ratio:,.0f} to 1 "
                    f"(at most {limits.xlsx_ratio} to 1)"
                )
        if total > limits.xlsx_total_bytes:
            raise _refuse(
                f"its parts unpack to {size(total)} (at most {size(limits.xlsx_total_bytes)})"
            )

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        """A part read whole (openpyxl's manifest, workbook, styles …): bounded in bytes and in
        XML elements, since openpyxl builds an object for each."""
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if info.file_size > self.limits.xlsx_part_bytes:
            raise _refuse(
                f"part {_part(info.filename)} unpacks to {size(info.file_size)} "
                f"(at most {size(self.limits.xlsx_part_bytes)} for a part read whole)"
            )
        with self.open(info, "r", pwd) as part:
            data = part.read(self.limits.xlsx_part_bytes + 1)
        _count_elements(data, info.filename, self.limits)
        return data

    def stream(self, name: str, limit: int) -> IO[bytes]:
        """A part to parse as a stream, refused when it unpacks to more than `limit` bytes."""
        try:
            info = self.getinfo(name)
        except KeyError:
            raise _refuse(f"it names a part {_part(name)} it does not hold") from None
        if info.file_size > limit:
            raise _refuse(
                f"part {_part(name)} unpacks to {size(info.file_size)} (at most {size(limit)})"
            )
        return self.open(info)


def _count_elements(data: bytes, name: str, limits: ImportLimits) -> None:
    """Refuse a part of more XML elements (or attributes on one) than the limits allow."""
    elements = 0

    def start(_tag: str, attributes: dict[str, str]) -> None:
        nonlocal elements
        elements += 1
        if elements > limits.xlsx_part_elements:
            raise _refuse(
                f"part {_part(name)} has more than {count(limits.xlsx_part_elements)} XML elements"
            )
        if len(attributes) > limits.xlsx_attributes:
            raise _refuse(
                f"an element of part {_part(name)} has over {limits.xlsx_attributes} attributes"
            )

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    with contextlib.suppress(expat.ExpatError):  # not XML: openpyxl answers for it
        parser.Parse(data, True)


class _Sheet(ReadOnlyWorksheet):
    """A sheet known by name and part; its rows are read by `sheet_rows`, not by openpyxl."""

    def _get_size(self) -> None:  # openpyxl would parse the part up to its dimension
        return None


class _Reader(ExcelReader):
    """openpyxl's reader over the bounded archive, with bounded shared strings and no sheet read."""

    def __init__(self, stream: IO[bytes], limits: ImportLimits) -> None:
        _check_directory(stream, limits)
        super().__init__(stream, read_only=True, data_only=True, keep_links=False)
        self.archive.close()  # zipfile's own: the stream stays open
        self.archive: _Archive = _Archive(stream, limits)
        self.valid_files = self.archive.namelist()
        self.limits = limits

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            self.shared_strings = shared_strings(self.archive, part.PartName[1:], self.limits)

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.wb._sheets.append(_Sheet(self.wb, sheet.name, rel.target, self.shared_strings))


def shared_strings(archive: _Archive, name: str, limits: ImportLimits) -> list[str]:
    """The shared-strings table, bounded in bytes, strings, elements of a string and characters."""
    strings: list[str] = []
    depth = held = 0
    root: Element | None = None
    with archive.stream(name, limits.xlsx_strings_bytes) as source:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                depth += 1
                held += 1
                root = element if root is None else root
                if held > limits.xlsx_cell_elements:
                    raise _refuse(
                        f"a shared string of {_part(name)} has more than "
                        f"{count(limits.xlsx_cell_elements)} XML elements"
                    )
                if len(element.attrib) > limits.xlsx_attributes:
                    raise _refuse(f"an element of {_part(name)} has too many attributes")
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            if element.tag == _MAIN + "si":
                text = Text.from_tree(element).content.replace("x005F_", "")
                if len(text) > limits.cell_chars:
                    raise _refuse(
                        f"shared string {len(strings)} of {_part(name)} has more than "
                        f"{count(limits.cell_chars)} characters"
                    )
                strings.append(text)
                if len(strings) > limits.xlsx_strings:
                    raise _refuse(
                        f"{_part(name)} holds more than {count(limits.xlsx_strings)} shared "
                        "strings (export a file this large as CSV)"
                    )
            root.clear()
            held = 1
    return strings


def open_workbook(stream: IO[bytes], limits: ImportLimits) -> Workbook:
    """openpyxl's workbook of a bounded archive; sheets known by name, not read yet."""
    try:
        reader = _Reader(stream, limits)
        reader.read()
    except InvalidInput:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged workbook
        raise InvalidInput(f"the file is not a readable XLSX workbook: {str(exc)[:300]}") from exc
    book: Workbook = reader.wb
    return book


def sheet_rows(book: Workbook, sheet: _Sheet, limits: ImportLimits) -> Iterator[Row]:
    """(row number, values) of every row element of a sheet, one row held at a time."""
    archive = book._archive
    cells = WorkSheetParser(
        None,
        sheet._shared_strings,
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,
        timedelta_formats=book._timedelta_formats,
    )
    rows = _SheetRows(cells, limits)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = rows.start
    parser.EndElementHandler = rows.end
    parser.CharacterDataHandler = rows.text
    with archive.stream(sheet._worksheet_path, limits.xlsx_sheet_bytes) as source:
        try:
            while chunk := source.read(_CHUNK):
                parser.Parse(chunk, False)
                yield from rows.take()
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise InvalidInput(
                f"sheet {sheet.title!r} is not readable XML (near row {rows.number}): {exc}"
            ) from exc
        yield from rows.take()


def _tag(name: str) -> str:
    """expat's `namespace}local` as ElementTree's `{namespace}local`."""
    return "{" + name if "}" in name else name


class _SheetRows:
    """expat handlers collecting a sheet's rows: at most one row and one cell's XML held."""

    def __init__(self, cells: WorkSheetParser, limits: ImportLimits) -> None:
        self.cells = cells
        self.limits = limits
        self.ready: list[Row] = []
        self.number = 0
        self.in_data = self.in_row = False
        self.values: dict[int, Any] = {}
        self.open: list[tuple[Element, list[str]]] = []  # the current cell's open elements
        self.elements = self.chars = 0

    def take(self) -> list[Row]:
        ready, self.ready = self.ready, []
        return ready

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if len(attributes) > self.limits.xlsx_attributes:
            raise _refuse(f"an element near row {self.number} has too many attributes")
        tag = _tag(name)
        if self.open:
            self.elements += 1
            if self.elements > self.limits.xlsx_cell_elements:
                raise _refuse(
                    f"a cell of row {self.number} has more than "
                    f"{count(self.limits.xlsx_cell_elements)} XML elements"
                )
            attrib = {_tag(k): v for k, v in attributes.items()}
            self.open.append((SubElement(self.open[-1][0], tag, attrib), []))
        elif self.in_row and tag == _MAIN + "c":
            self.open.append((Element(tag, attributes), []))
            self.elements = 1
            self.chars = 0
        elif self.in_data and tag == _MAIN + "row":
            self._begin_row(attributes.get("r"))
        elif tag == _MAIN + "sheetData":
            self.in_data = True

    def end(self, name: str) -> None:
        if self.open:
            element, texts = self.open.pop()
            element.text = "".join(texts) or None
            if not self.open:
                self._end_cell(element)
        elif self.in_row and name == SHEET_MAIN_NS + "}row":
            self._end_row()
        elif name == SHEET_MAIN_NS + "}sheetData":
            self.in_data = False

    def text(self, data: str) -> None:
        if self.open:
            self.chars += len(data)
            if self.chars > self.limits.cell_chars:
                raise _refuse(
                    f"a cell of row {self.number} has more than "
                    f"{count(self.limits.cell_chars)} characters"
                )
            self.open[-1][1].append(data)

    def _begin_row(self, given: str | None) -> None:
        try:
            number = self.number + 1 if given is None else int(float(given))
        except (ValueError, OverflowError):
            shown = (given or "")[:20]
            raise _refuse(f"row {shown!r} after row {self.number} is no row number") from None
        if number <= self.number:
            raise _refuse(f"row {number} comes after row {self.number}")
        if number > self.limits.xlsx_rows:
            raise InvalidInput(
                f"the sheet has more than {count(self.limits.xlsx_rows)} rows "
                "(blank rows count; row numbers are counted, not row elements)"
            )
        self.number = number
        self.in_row = True
        self.values = {}
        self.cells.row_counter = number
        self.cells.col_counter = 0

    def _end_cell(self, element: Element) -> None:
        try:
            cell = self.cells.parse_cell(element)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError) as exc:
            raise InvalidInput(
                f"row {self.number} of the sheet has a cell that cannot be read: {str(exc)[:200]}"
            ) from exc
        value = cell["value"]
        if value is None:
            return
        column = int(cell["column"])
        if column > self.limits.columns:
            raise InvalidInput(
                f"row {self.number} has a value in column {count(column)}; "
                f"at most {count(self.limits.columns)} columns are read"
            )
        self.values[column] = value

    def _end_row(self) -> None:
        values: list[Any] = [None] * max(self.values, default=0)
        for column, value in self.values.items():
            values[column - 1] = value
        self.ready.append((self.number, values))
        self.in_row = False
