"""Hostile import files, built in the test: XLSX bombs and a child process that reads them.

`read_in_child` runs the import's reading and mapping (everything before ingest) in a fresh
interpreter whose address space is capped, and reports what it answered and how much its peak
resident memory grew: a reader that holds a bomb in memory dies there instead of here.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    + _REL
    + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="'
    + NS
    + b'" xmlns:r="'
    + _REL
    + b'"><sheets><sheet name="Ark1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    + _REL
    + b'/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="'
    + _REL
    + b'/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
#: Row 1 of every bomb sheet: the header the mapping names, as inline strings.
HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Sagsnr</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>CPR</t></is></c></row>'
)
MAPPING = {"columns": {"Sagsnr": "source_id", "CPR": {"field": "national_id", "zfill": 10}}}


def workbook(sheet: Iterable[bytes], strings: Iterable[bytes] = ()) -> bytes:
    """A minimal XLSX whose sheet data and shared strings are streamed from chunks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CT)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="' + NS + b'">')
            for chunk in strings:
                part.write(chunk)
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(b'<?xml version="1.0"?><worksheet xmlns="' + NS + b'"><sheetData>')
            for chunk in sheet:
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def shared_strings_bomb(uncompressed: int = 256 << 20) -> bytes:
    """About 1 MB on disk: a sharedStrings.xml of `uncompressed` bytes of one-letter strings."""
    chunk = b"<si><t>x</t></si>" * 65536
    return workbook([HEADER_ROW], (chunk for _ in range(uncompressed // len(chunk))))


def empty_rows_xlsx(rows: int = 3_000_000) -> bytes:
    """About 7.5 MB on disk: the header, then `rows` empty rows with a custom height each."""

    def chunks() -> Iterator[bytes]:
        yield HEADER_ROW
        step = 100_000
        for start in range(2, rows + 2, step):
            numbers = range(start, min(start + step, rows + 2))
            yield b"".join(b'<row r="%d" ht="15" customHeight="1"/>' % n for n in numbers)

    return workbook(chunks())


def empty_rows_csv(rows: int = 3_000_000) -> bytes:
    """The header, then `rows` empty lines (about 6 MB)."""
    return b"Sagsnr;CPR\r\n" + b"\r\n" * rows


def deep_json(depth: int = 50_000) -> str:
    """A mapping nested `depth` arrays deep: 100,000 characters, the form field's limit."""
    return "[" * depth + "]" * depth


_CHILD = """
import json, resource, sys
def address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
import openpyxl
from registry.core.errors import InvalidInput
from registry.imports.mapping import RowMapper, load_mapping
from registry.imports.readers import fingerprint, open_rows
path, mapping_path, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
cap = address_space() + budget
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rows = 0
try:
    with open(mapping_path, "rb") as source:
        mapping = load_mapping(source.read())
    with open(path, "rb") as stream:
        kind = fingerprint(stream).kind
        with open_rows(stream, kind, mapping) as (header, values):
            mapper = RowMapper(mapping, header)
            for _number, row in values:
                mapper.record(row)
                rows += 1
    answer = {"refused": None, "rows": rows}
except InvalidInput as exc:
    answer = {"refused": exc.detail, "errors": exc.errors, "rows": rows}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({**answer, "grew_mb": (peak - before) / 1024}))
"""


def read_in_child(
    tmp: Path, data: bytes, mapping: Any, budget: int = 1536 << 20, timeout: float = 60
) -> dict[str, Any]:
    """Read and map `data` in a child capped at `budget` bytes more address space."""
    path = tmp / "export.bin"
    path.write_bytes(data)
    mapping_path = tmp / "mapping.json"
    mapping_path.write_text(mapping if isinstance(mapping, str) else json.dumps(mapping))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(mapping_path), str(budget)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, f"the reader died: {done.stderr[-2000:]}"
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer
