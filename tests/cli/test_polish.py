"""CLI polish: every command's help shows an example, errors are one line, long commands
show progress and end with a summary (demo, backup)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.main import get_command
from typer.testing import CliRunner

from registry.cli.backup import libpq_url, tool_env
from registry.cli.main import EXAMPLES, app
from registry.core.db import make_engine
from registry.core.settings import get_settings

REGISTRY = Path(sys.executable).parent / "registry"
SECRETS = {
    "REGISTRY_ENV": "test",
    "REGISTRY_JWT_SECRET": "test-signing-secret-" + "x" * 32,
    "REGISTRY_NATIONAL_ID_KEY": "test-national-id-key-" + "y" * 32,
}


def command_paths(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group below `registry`, as its words."""
    command = command if command is not None else get_command(app)
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield (*path, name)
        yield from command_paths(sub, (*path, name))


def leaf_paths() -> list[tuple[str, ...]]:
    paths = list(command_paths())
    return [p for p in paths if not any(q[: len(p)] == p and q != p for q in paths)]


def help_of(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def example_lines(output: str) -> list[str]:
    """The `registry …` lines after the Example(s) heading, as a reader sees them."""
    lines = [line.strip(" │") for line in output.splitlines()]
    start = next(i for i, line in enumerate(lines) if re.match(r"Examples?:$", line))
    return [line for line in lines[start + 1 :] if line.startswith("registry ")]


def test_the_command_tree_is_what_the_examples_cover() -> None:
    leaves = {" ".join(p) for p in leaf_paths()}
    assert {"import", "backup", "restore", "demo", "serve", "linkage relink"} <= leaves
    assert {name for name, _ in EXAMPLES} == leaves


@pytest.mark.parametrize("path", list(command_paths()), ids=" ".join)
def test_every_command_help_ends_with_an_example_of_itself(path: tuple[str, ...]) -> None:
    examples = example_lines(help_of(*path))
    assert examples, f"registry {' '.join(path)} --help has no Example"
    prefix = "registry " + " ".join(path)
    assert all(line.startswith(prefix) for line in examples), examples


def test_registry_help_shows_an_example_of_every_command_and_debug() -> None:
    output = help_of()
    examples = example_lines(output)
    for path in leaf_paths():
        words = "registry " + " ".join(path)
        assert any(line == words or line.startswith(words + " ") for line in examples), words
    assert "--debug" in output


def run_registry(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `registry` script, as a user runs it."""
    return subprocess.run(
        [str(REGISTRY), *args],
        env={**os.environ, **SECRETS, "COLUMNS": "100", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def import_files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "udtraek.csv"
    data.write_text("Sagsnr;Fornavn\nK-1;Ada\n", encoding="utf-8")
    mapping = tmp_path / "sel85.json"
    mapping.write_text(
        '{"columns": {"Sagsnr": "source_id", "Fornavn": "given_name"}, "csv": {"delimiter": ";"}}',
        encoding="utf-8",
    )
    return data, mapping


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing file", r"error: No such file or directory: .*nowhere\.csv"),
        ("bad mapping", r"error: the mapping is not valid: columns\.Sagsnr: field 'cpr_nummer'"),
        ("backup to a missing folder", r"error: backup failed: could not open output file"),
        ("database away", r"error: database: .*(refused|could not connect)"),
    ],
)
def test_a_failing_command_says_one_line_on_stderr_and_exits_1(
    case: str, expected: str, import_files: tuple[Path, Path], database_url: str, tmp_path: Path
) -> None:
    data, mapping = import_files
    env = {"REGISTRY_DATABASE_URL": database_url}
    args: tuple[str, ...] = ("import", "--programme", "SEL85", "--mapping", str(mapping))
    if case == "missing file":
        args = (*args, str(tmp_path / "nowhere.csv"))
    elif case == "bad mapping":
        mapping.write_text('{"columns": {"Sagsnr": "cpr_nummer"}}', encoding="utf-8")
        args = (*args, str(data))
    elif case == "backup to a missing folder":
        args = ("backup", "--out", str(tmp_path / "no" / "such" / "folder" / "r.dump"))
    else:
        env = {"REGISTRY_DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/registry"}
        args = ("audit", "verify")
    done = run_registry(*args, env=env, cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.match(expected, lines[0]), lines[0]
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("where", ["registry --debug import", "registry import --debug"])
def test_debug_shows_the_traceback(
    where: str, import_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, mapping = import_files
    missing = str(tmp_path / "nowhere.csv")
    args = ["import", "--programme", "SEL85", "--mapping", str(mapping), missing]
    args.insert(0 if where.startswith("registry --debug") else 1, "--debug")
    done = run_registry(*args, env={}, cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "FileNotFoundError" in done.stderr
    assert len(done.stderr.splitlines()) > 3


def test_demo_shows_a_summary_that_matches_the_registry(
    cli_env: None, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    done = runner.invoke(app, ["demo", "--persons", "300", "--seed", "3"])
    assert done.exit_code == 0, done.output
    figures = {
        m.group(1): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"^  (\w[\w ]*?)\s{2,}([\d,]+)", done.output, re.MULTILINE)
    }
    with engine.connect() as conn:
        records = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
        rejected = conn.execute(text("SELECT sum(rejected) FROM feed_batch")).scalar_one()
        persons = conn.execute(
            text("SELECT count(*) FROM person WHERE merged_into IS NULL")
        ).scalar_one()
        batches = conn.execute(text("SELECT count(*) FROM feed_batch")).scalar_one()
    assert "demo loaded: 4 programmes, 5 users, 4 feed clients" in done.output
    assert figures["persons generated"] == 300
    assert figures["records sent"] == records + rejected
    assert figures["accepted"] == records and figures["rejected"] == rejected > 0
    assert figures["persons now"] == persons
    assert f"in {batches:,} batches" in done.output
    assert re.search(r"time\s+[\d.]+s\s+[\d,]+ records/s", done.output)
    again = runner.invoke(app, ["demo", "--persons", "300", "--seed", "3"])
    assert again.exit_code == 0 and "demo already loaded" in again.output


def test_the_demo_is_refused_in_production(
    cli_env: None, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "prod")
    get_settings.cache_clear()
    done = CliRunner().invoke(app, ["demo", "--persons", "300"])
    assert done.exit_code == 1
    assert done.output.strip() == "error: the demo is not loaded into a production registry"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM programme")).scalar_one() == 0


def test_backup_shows_a_summary_of_what_it_dumped(
    cli_env: None, engine: Engine, tmp_path: Path
) -> None:
    dump = tmp_path / "registry.dump"
    done = CliRunner().invoke(app, ["backup", "--out", str(dump)])
    assert done.exit_code == 0, done.output
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            )
        ).scalar_one()
    assert f"backup written to {dump}" in done.output
    assert re.search(rf"tables\s+{tables}\b", done.output), done.output
    assert f"({dump.stat().st_size:,} bytes)" in done.output
    assert f"restore with: registry restore {dump}" in done.output


def test_the_dump_tools_get_the_password_in_their_environment_not_their_arguments() -> None:
    engine = make_engine("postgresql+psycopg2://registry:s3cret-pw@db.example:5433/reg")
    try:
        assert libpq_url(engine) == "postgresql://registry@db.example:5433/reg"
        assert tool_env(engine)["PGPASSWORD"] == "s3cret-pw"
    finally:
        engine.dispose()
