"""Every bound of registry/imports/limits.py, each passed by a small file under shrunken limits."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from registry.cli.main import app
from registry.core.errors import InvalidInput
from registry.imports.limits import LIMITS, ImportLimits
from registry.imports.mapping import RowMapper, load_mapping, parse_mapping
from registry.imports.readers import fingerprint, open_rows
from registry.imports.service import ImportResult, ImportSummary, RejectedRow
from tests.hostile import bombs
from tests.imports.conftest import Export, csv_bytes, mapping_json, xlsx_bytes

SMALL = {"columns": {"Sagsnr": "source_id"}, "csv": {"delimiter": ";"}}


def read_all(data: bytes, mapping: Any, limits: ImportLimits = LIMITS) -> list[Any]:
    parsed = load_mapping(mapping if isinstance(mapping, str) else json.dumps(mapping))
    stream = io.BytesIO(data)
    with open_rows(stream, fingerprint(stream).kind, parsed, limits) as (header, rows):
        mapper = RowMapper(parsed, header)
        return [mapper.record(values) for _, values in rows]


def refused(data: bytes, mapping: Any, **limits: int) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_all(data, mapping, replace(LIMITS, **limits))
    return caught.value.detail


def test_the_fixture_export_reads_within_the_default_limits(export: Export) -> None:
    assert len(read_all(csv_bytes(export), mapping_json())) == 7
    assert len(read_all(xlsx_bytes(export), mapping_json(sheet="Ark1"))) == 7


def test_csv_rows_columns_cells_and_records_are_bounded() -> None:
    assert "more than 3 rows" in refused(b"Sagsnr\n1\n\n\n2\n", SMALL, csv_rows=3)
    assert "3 columns" in refused(b"Sagsnr\n1;2;3\n", SMALL, columns=2)
    assert "more than 4 characters" in refused(b"Sagsnr\n12345\n", SMALL, cell_chars=4)
    long_record = b'Sagsnr\n"1\n' + b"x\n" * 20 + b'"\n'
    assert "row 2 of the file is longer than 30" in refused(long_record, SMALL, record_chars=30)
    assert read_all(b"Sagsnr\n" + b"1234567890\n" * 5, SMALL, replace(LIMITS, record_chars=12))


def test_xlsx_rows_columns_and_cells_are_bounded(export: Export) -> None:
    book = xlsx_bytes(export)
    mapping = mapping_json(sheet="Ark1")
    assert "more than 5 rows" in refused(book, mapping, xlsx_rows=5)
    assert "at most 10 columns" in refused(book, mapping, columns=10)
    assert "more than 8 characters" in refused(book, mapping, cell_chars=8)


def test_xlsx_archive_parts_sizes_and_ratio_are_bounded(export: Export) -> None:
    book = xlsx_bytes(export)
    mapping = mapping_json(sheet="Ark1")
    assert "parts" in refused(book, mapping, xlsx_parts=3)
    assert "for a part read whole" in refused(book, mapping, xlsx_part_bytes=500)
    assert "XML elements" in refused(book, mapping, xlsx_part_elements=20)
    strings = bombs.workbook([bombs.HEADER_ROW], [b"<si><t>a</t></si>" * 5])
    assert "more than 3 shared strings" in refused(strings, bombs.MAPPING, xlsx_strings=3)
    assert "more than 1,000 XML elements" in refused(
        bombs.workbook([bombs.HEADER_ROW], [b"<si>" + b"<r><t>a</t></r>" * 600 + b"</si>"]),
        bombs.MAPPING,
    )
    assert "parts unpack to" in refused(book, mapping, xlsx_total_bytes=1000)
    ratio = bombs.workbook([bombs.HEADER_ROW, b"<row r='2'/>" * 200_000])
    assert "to 1" in refused(ratio, bombs.MAPPING)


def test_rows_out_of_order_and_unreadable_cells_are_422_not_500() -> None:
    backwards = bombs.workbook([bombs.HEADER_ROW, b'<row r="5"/><row r="3"/>'])
    assert "row 3 comes after row 5" in refused(backwards, bombs.MAPPING)
    index = bombs.workbook([bombs.HEADER_ROW, b'<row r="2"><c r="A2" t="s"><v>99</v></c></row>'])
    assert "cannot be read" in refused(index, bombs.MAPPING)
    broken = bombs.workbook([bombs.HEADER_ROW, b'<row r="2"><c r="A2"><v>1</c></row>'])
    assert "not readable XML" in refused(broken, bombs.MAPPING)
    far = bombs.workbook([bombs.HEADER_ROW, b'<row r="2"><c r="XFD2"><v>1</v></c></row>'])
    assert "column 16,384" in refused(far, bombs.MAPPING)
    styled = bombs.workbook([bombs.HEADER_ROW, b'<row r="2"><c r="XFD2" s="1"/></row>'])
    assert read_all(styled, bombs.MAPPING) == []  # an empty cell far right is no value


def test_zip64_and_oversized_directories_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(30):
            archive.writestr(f"part{n}.xml", b"<a/>")
    assert "30 parts" in refused(out.getvalue(), bombs.MAPPING, xlsx_parts=20)
    zip64 = bytearray(out.getvalue())
    at = zip64.rfind(b"PK\x05\x06")
    zip64[at + 10 : at + 12] = b"\xff\xff"  # total entries: "see the ZIP64 record"
    assert "ZIP64" in refused(bytes(zip64), bombs.MAPPING)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"CPR": {"field": "national_id", "zfill": 33}}, "columns.CPR.zfill"),
        ({"CPR": {"field": "national_id", "zfill": True}}, "columns.CPR.zfill"),
        ({"K": {"field": "sex", "codes": {str(n): "M" for n in range(10_001)}}}, "columns.K.codes"),
        ({"K": {"field": "sex", "codes": {"1": "M" * 257}}}, "columns.K.codes"),
        ({"D": {"field": "birth_date", "date_format": ["%d"] * 11}}, "columns.D.date_format"),
        ({"D": {"field": "birth_date", "date_format": "%d" * 200}}, "columns.D.date_format"),
        ({"x" * 257: "given_name"}, "columns.xxx"),
    ],
)
def test_every_mapping_value_is_bounded(change: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mapping({"columns": {"Sagsnr": "source_id", **change}})
    assert any(e["field"].startswith(where) for e in caught.value.errors or ()), caught.value.errors


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"constants": {"given_name": "x" * 2001}}, "constants.given_name"),
        ({"constants": {"enrolment.amount": float("inf")}}, "constants.enrolment.amount"),
        ({"sheet": "s" * 257}, "sheet"),
        ({"description": ["not", "text"]}, "description"),
        ({"programme": "P" * 33}, "programme"),
    ],
)
def test_constants_and_names_are_bounded(document: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mapping({"columns": {"Sagsnr": "source_id"}, **document})
    assert [e["field"] for e in caught.value.errors or ()] == [where]


def test_a_mapping_too_long_or_too_deep_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidInput, match="more than 100,000 characters"):
        load_mapping(json.dumps({"columns": {"Sagsnr": "source_id"}, "description": "x" * 100_000}))
    with pytest.raises(InvalidInput, match="nested deeper than 8 levels"):
        load_mapping('{"columns": {"a": {"codes": {"b": [[[[[[["c"]]]]]]]}}}}')
    assert load_mapping('{"columns": {"Sagsnr": "source_id"}, "description": "[[[[[[[[[["}')
    problems = {f"c{n}": "nickname" for n in range(500)}
    with pytest.raises(InvalidInput) as caught:
        parse_mapping({"columns": {"Sagsnr": "source_id", **problems}})
    assert len(caught.value.errors or ()) == 100


def test_the_cli_refuses_a_deep_or_huge_mapping_file_in_one_line(
    cli_env: None, engine: Engine, sel85: str, tmp_path: Path, export: Export
) -> None:
    data = tmp_path / "export.csv"
    data.write_bytes(csv_bytes(export))
    for name, text in (("deep.json", bombs.deep_json()), ("huge.json", " " * 500_000 + "{}")):
        mapping = tmp_path / name
        mapping.write_text(text)
        result = CliRunner().invoke(
            app, ["import", "--programme", "SEL85", "--mapping", str(mapping), str(data)]
        )
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: the mapping"), result.output
        assert "Traceback" not in result.output


def test_rejection_reasons_are_kept_in_bounded_memory_first_by_row() -> None:
    result = ImportResult(ImportSummary("SEL85", "0" * 64, "csv"), keep_reasons=10)
    for start in (500, 0, 250):  # batches finish out of order
        result.add_reasons(
            RejectedRow(row, None, None, "f", "c", "m") for row in range(start, start + 25)
        )
        assert len(result.rejected_rows) <= 2 * 10 + 25
    result.trim_reasons()
    assert [r.row for r in result.rejected_rows] == list(range(10))
    assert result.summary.reasons_omitted == 65
