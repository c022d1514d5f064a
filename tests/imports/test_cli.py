"""`registry import` end to end against the test database."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from registry.cli.main import app
from tests.imports.conftest import BAD_ROWS, Export, csv_bytes, mapping_json, table_counts


@pytest.fixture
def files(tmp_path: Path, export: Export) -> tuple[Path, Path]:
    data = tmp_path / "sel85-2026-11.csv"
    data.write_bytes(csv_bytes(export))
    mapping = tmp_path / "sel85.json"
    mapping.write_text(mapping_json(), encoding="utf-8")
    return data, mapping


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["import", *args])
    return result.exit_code, result.output


def test_import_prints_a_summary_and_writes_the_rejected_rows(
    cli_env: None, engine: Engine, sel85: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, mapping = files
    rejects = tmp_path / "afviste.csv"
    code, output = invoke(
        "--programme", "SEL85", "--mapping", str(mapping), "--rejects", str(rejects), str(data)
    )
    assert code == 0, output
    assert "rows read            7" in output
    assert "accepted             4" in output
    assert "rejected             3" in output
    assert "rows/s" in output
    assert "columns not mapped (ignored): Bemærkning" in output
    with rejects.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {(int(r["row"]), r["field"], r["code"], r["column"]) for r in rows} == {
        (row, *reason) for row, reason in BAD_ROWS.items()
    }
    assert all(r["message"] for r in rows)
    assert table_counts(engine)["source_record"] == 4
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = 'feed.import'")
        ).all()
    assert len(events) == 1 and events[0].actor.startswith("cli:")  # one batch of 1000
    assert {e.detail["file_name"] for e in events} == {data.name}


def test_importing_the_same_file_twice_changes_nothing(
    cli_env: None,
    engine: Engine,
    sel85: str,
    files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    data, mapping = files
    args = ("--programme", "SEL85", "--mapping", str(mapping), "--batch-size", "2", str(data))
    code, _ = invoke(*args)
    assert code == 0
    default_rejects = tmp_path / f"{data.name}.rejected.csv"
    assert default_rejects.exists()
    before = table_counts(engine)
    code, output = invoke(*args)
    assert code == 0, output
    assert table_counts(engine) == before
    assert "unchanged            4" in output
    assert "already imported: nothing changed" in output
    assert re.search(r"batches +4 .*run in [12] process", output), output  # worker processes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-such-programme", "error: "),
        ("missing-mapping", "error: cannot read the mapping file"),
        ("bad-mapping", "error: the mapping is not valid"),
        ("missing-file", "error: No such file or directory"),
    ],
)
def test_errors_are_one_line_without_traceback(
    cli_env: None,
    engine: Engine,
    sel85: str,
    files: tuple[Path, Path],
    tmp_path: Path,
    change: str,
    message: str,
) -> None:
    data, mapping = files
    programme = "SEL999" if change == "no-such-programme" else "SEL85"
    if change == "missing-mapping":
        mapping = tmp_path / "nowhere.json"
    if change == "bad-mapping":
        mapping.write_text('{"columns": {"Sagsnr": "cpr_nummer"}}', encoding="utf-8")
    if change == "missing-file":
        data = tmp_path / "nowhere.csv"
    code, output = invoke("--programme", programme, "--mapping", str(mapping), str(data))
    assert code == 1
    assert "Traceback" not in output
    error_lines = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and error_lines[0].startswith(message), output
    assert table_counts(engine)["feed_batch"] == 0


def test_debug_shows_the_traceback(
    cli_env: None, engine: Engine, sel85: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, mapping = files
    result = CliRunner().invoke(
        app,
        ["import", "--programme", "SEL999", "--mapping", str(mapping), "--debug", str(data)],
    )
    assert result.exit_code != 0
    assert result.exception is not None and "SEL999" in str(result.exception)
