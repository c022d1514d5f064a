"""The `registry` command: serve, migrate, bootstrap users, load the demo."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from registry import backup_cli, import_cli
from registry.errors import RegistryError
from registry.export_cli import export_app
from registry.matching_cli import linkage_app
from registry.settings import get_settings

app = typer.Typer(help="Integrated social registry.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="People who use the registry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(linkage_app, name="linkage")
app.add_typer(export_app, name="export")
backup_cli.register(app)
import_cli.register(app)


def _ready_engine():  # type: ignore[no-untyped-def]
    """The engine (embedded PostgreSQL unless REGISTRY_DATABASE_URL is set), migrated to head."""
    from registry.db import get_engine
    from registry.migrate import upgrade_to_head

    engine = get_engine()
    upgrade_to_head(engine.url.render_as_string(hide_password=False))
    return engine


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration.  Example: registry db upgrade"""
    _ready_engine()
    typer.echo("database at head")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    region: Annotated[list[str], typer.Option(help="Region scope; '*' for all.")] = [],  # noqa: B006
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create a user.  Example: registry users create --username ada --role admin"""
    from registry.access.service import create_user
    from registry.db import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = _ready_engine()
    try:
        with transaction(engine) as session:
            user = create_user(
                session,
                username=username,
                password=password,
                roles=role,
                regions=region,
                programmes=[],
            )
    except RegistryError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created user {user.username} with roles {', '.join(user.roles)}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 at the first broken event.  Example: registry audit verify"""
    from registry.audit.service import verify_chain
    from registry.db import transaction

    with transaction(_ready_engine()) as session:
        outcome = verify_chain(session)
    if outcome["ok"]:
        typer.echo(f"audit chain ok: {outcome['events_checked']} events")
        return
    typer.echo(f"audit chain BROKEN at event {outcome['first_broken']}", err=True)
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Print the chain's head hash, to keep elsewhere.  Example: registry audit anchor"""
    from registry.audit.service import verify_chain
    from registry.db import transaction

    with transaction(_ready_engine()) as session:
        outcome = verify_chain(session)
    if not outcome["ok"]:
        typer.echo(f"audit chain BROKEN at event {outcome['first_broken']}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{outcome['head']}  events={outcome['events_checked']}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load the demo programmes and feeds first.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (use the cores).")] = 1,
    graceful_seconds: Annotated[
        int | None, typer.Option(help="On SIGTERM, wait this long for in-flight requests.")
    ] = None,
) -> None:
    """Serve the HTTP API.  Example: registry serve --demo --port 8000"""
    import uvicorn

    from registry.logging import configure_logging, uvicorn_log_config

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = _ready_engine()
    if demo:
        from registry.demo.loader import load_demo

        load_demo(engine, settings, echo=typer.echo)
    typer.echo(f"registry API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if workers > 1:
        # workers re-read settings from the environment: pin them to this database and keys
        os.environ["REGISTRY_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
        os.environ["REGISTRY_JWT_SECRET"] = settings.secret("jwt_secret")
        os.environ["REGISTRY_NATIONAL_ID_KEY"] = settings.secret("national_id_key")
    # by import string: registry never imports api; in one process api.main reuses this engine
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        access_log=False,  # ours logs route templates; uvicorn's would log query strings
        timeout_graceful_shutdown=graceful_seconds or settings.shutdown_grace_seconds,
    )


def main() -> None:
    app()
