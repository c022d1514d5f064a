"""`registry db`: schema and roles; the embedded PostgreSQL of the data folder, seen, stopped."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli.help import examples
from registry.core.errors import ConfigurationError
from registry.core.settings import get_settings

#: Exit status of `db status` when the server does not run (as systemctl status, LSB).
NOT_RUNNING = 3

db_app = typer.Typer(
    help="The database: its schema and roles; the embedded server's status and stop.",
    epilog=examples("db upgrade", "db roles", "db status", "db stop"),
    no_args_is_help=True,
)


@db_app.command("upgrade", epilog=examples("db upgrade"))
def db_upgrade() -> None:
    """Apply every pending migration and create the coming months' partitions, as the owner."""
    from registry.core.db import resolve_database_url, resolve_owner_url
    from registry.core.migrate import prepare_database

    settings = get_settings()
    prepare_database(resolve_owner_url(settings) or resolve_database_url(settings))
    typer.echo("database at head")


@db_app.command("roles", epilog=examples("db roles"))
def db_roles() -> None:
    """Create the owner and application roles and give the database to the owner (superuser)."""
    from registry.core.roles import bootstrap_from_urls

    settings = get_settings()
    missing = [
        f"REGISTRY_{name.upper()}"
        for name in ("admin_database_url", "owner_database_url", "database_url")
        if not getattr(settings, name)
    ]
    if missing:
        raise ConfigurationError(f"set {', '.join(missing)}")
    bootstrap_from_urls(
        str(settings.admin_database_url),
        str(settings.owner_database_url),
        str(settings.database_url),
    )
    typer.echo("roles registry_owner and registry_app ready")


@db_app.command("status", epilog=examples("db status"))
def db_status() -> None:
    """Whether the embedded PostgreSQL runs: its pid, data dir and URL; exit 0, or 3 if not."""
    from registry.core.embedded_control import embedded_status
    from registry.core.settings import Settings

    settings = Settings()  # no secrets needed, none generated
    status = embedded_status(settings.data_dir)
    typer.echo(f"embedded PostgreSQL: {'running' if status.running else 'not running'}")
    if status.running:
        typer.echo(f"pid: {status.pid}")
    typer.echo(f"data dir: {status.pgdata}")
    if status.running:
        typer.echo(f"url: {status.url}")
        held = ", ".join(map(str, status.holders)) or "none"
        typer.echo(f"held by registry processes: {held}")
    if settings.database_url:
        typer.echo("note: REGISTRY_DATABASE_URL is set; the registry does not use this server")
    raise typer.Exit(0 if status.running else NOT_RUNNING)


@db_app.command("stop", epilog=examples("db stop"))
def db_stop(
    force: Annotated[
        bool,
        typer.Option(help="Stop it even while registry processes hold it (they lose it)."),
    ] = False,
) -> None:
    """Stop the embedded PostgreSQL (fast shutdown); nothing to do when it is not running."""
    from registry.core.embedded_control import pgdata_of, stop_server
    from registry.core.settings import Settings

    pgdata = pgdata_of(Settings().data_dir)
    pid = stop_server(pgdata, force=force)
    if pid is None:
        typer.echo(f"embedded PostgreSQL: not running (data dir: {pgdata})")
    else:
        typer.echo(f"stopped the embedded PostgreSQL (pid {pid})")
