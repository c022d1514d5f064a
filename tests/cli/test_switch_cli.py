"""`registry switch`: a CSV re-keying map from the command line, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from registry.cli.main import app
from tests.api.conftest import Setup, setup
from tests.factories import push, record

__all__ = ["setup"]  # the fixture, used by name


def source_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT source_id FROM source_record ORDER BY 1")).scalars())


def test_the_cli_rekeys_from_a_csv_and_refuses_a_bad_map_naming_its_lines(
    cli_env: None, client: TestClient, setup: Setup, engine: Engine, tmp_path: Path
) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("A"), record("B", national_id=None)])
    bad = tmp_path / "bad.csv"
    bad.write_text("old_source_id,new_source_id\nA,X-A\nZ,X-Z\nB,X-A\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["switch", "--programme", "SEL85", "--date", "2026-03-01", str(bad)]
    )
    assert result.exit_code == 1
    assert "line 3: old_source_id: unknown_old_id" in result.output
    assert "line 4: new_source_id: duplicate_new_id" in result.output
    assert source_ids(engine) == ["A", "B"]

    good = tmp_path / "rekey.csv"
    good.write_text("old_source_id;new_source_id\nA;X-A\nB;X-B\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["switch", "--programme", "SEL85", "--date", "2026-03-01", str(good)]
    )
    assert result.exit_code == 0, result.output
    assert "2 records re-keyed" in result.output
    assert source_ids(engine) == ["X-A", "X-B"]
    with engine.connect() as conn:
        actor = conn.execute(
            text("SELECT actor FROM audit_event WHERE action = 'programme.switch'")
        )
        assert actor.scalar_one().startswith("cli:")
