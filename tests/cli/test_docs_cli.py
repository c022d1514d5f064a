"""`registry docs data-dictionary`: the dictionary generated, written and checked."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from registry.cli.main import app
from registry.records.dictionary import data_dictionary


def test_the_command_writes_the_dictionary_and_checks_it(tmp_path: Path) -> None:
    out = tmp_path / "data-dictionary.md"
    written = CliRunner().invoke(app, ["docs", "data-dictionary", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == data_dictionary()
    checked = CliRunner().invoke(app, ["docs", "data-dictionary", "--out", str(out), "--check"])
    assert checked.exit_code == 0
    out.write_text("stale", encoding="utf-8")
    stale = CliRunner().invoke(app, ["docs", "data-dictionary", "--out", str(out), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    shown = CliRunner().invoke(app, ["docs", "data-dictionary", "--out", "-"])
    assert shown.output == data_dictionary()
