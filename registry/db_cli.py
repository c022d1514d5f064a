"""`registry db status|stop`: the embedded PostgreSQL of the data folder, seen and stopped."""

from __future__ import annotations

from typing import Annotated

import typer

#: Exit status of `db status` when the server does not run (as systemctl status, LSB).
NOT_RUNNING = 3
STATUS_EXAMPLE = "Example:\n\n  registry db status"
STOP_EXAMPLE = "Example:\n\n  registry db stop"


def register(db_app: typer.Typer) -> None:
    """Add `status` and `stop` to the `registry db` group."""

    @db_app.command("status", epilog=STATUS_EXAMPLE)
    def db_status() -> None:
        """Whether the embedded PostgreSQL runs: its pid, data dir and URL; exit 0, or 3 if not."""
        from registry.embedded_control import embedded_status
        from registry.settings import Settings

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

    @db_app.command("stop", epilog=STOP_EXAMPLE)
    def db_stop(
        force: Annotated[
            bool,
            typer.Option(help="Stop it even while registry processes hold it (they lose it)."),
        ] = False,
    ) -> None:
        """Stop the embedded PostgreSQL (fast shutdown); nothing to do when it is not running."""
        from registry.embedded_control import pgdata_of, stop_server
        from registry.settings import Settings

        pgdata = pgdata_of(Settings().data_dir)
        pid = stop_server(pgdata, force=force)
        if pid is None:
            typer.echo(f"embedded PostgreSQL: not running (data dir: {pgdata})")
        else:
            typer.echo(f"stopped the embedded PostgreSQL (pid {pid})")
