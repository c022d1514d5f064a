"""The `registry` command: serve, migrate, bootstrap users, load the demo.

Every command's help ends with an example; an error is one line on stderr and exit status 1,
with the traceback only under `registry --debug COMMAND`.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from registry import backup_cli, db_cli, import_cli
from registry.errors import RegistryError
from registry.export_cli import export_app
from registry.matching_cli import linkage_app
from registry.settings import get_settings

#: ctx.meta key: a command's own --debug (as `registry import --debug`) sets it too.
DEBUG = "registry.debug"
#: One example per command, as `registry --help` lists them.
EXAMPLES = (
    ("serve", "registry serve --demo --port 8000"),
    ("demo", "registry demo --persons 2000"),
    ("import", "registry import --programme SEL85 --mapping sel85.json udtraek.csv"),
    ("db upgrade", "registry db upgrade"),
    ("db status", "registry db status"),
    ("db stop", "registry db stop"),
    ("users create", "registry users create --username ada --role admin"),
    ("audit verify", "registry audit verify"),
    ("audit anchor", "registry audit anchor"),
    ("linkage train", "registry linkage train"),
    ("linkage relink", "registry linkage relink --apply"),
    ("export pseudonymised", "registry export pseudonymised --out stats --key-file pk.txt"),
    ("backup", "registry backup --out registry.dump"),
    ("restore", "registry restore registry.dump"),
)


def examples(*commands: str) -> str:
    """A help epilog: the examples of these commands (of all, when none is named)."""
    chosen = [line for name, line in EXAMPLES if not commands or name in commands]
    title = "Example:" if len(chosen) == 1 else "Examples:"
    return "\n\n".join([title, *(f"  {line}" for line in chosen)])


def one_line(exc: BaseException) -> str:
    """An error as one line: the domain detail, or the exception's first line."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, RegistryError):
        text = exc.detail
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    elif isinstance(exc, DBAPIError):
        text = f"database: {str(exc.orig).strip()}"
    else:
        first = str(exc).strip()
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return " ".join(text.split()) or type(exc).__name__


class OneLineErrors(TyperGroup):
    """Any error of any command: one line on stderr and exit status 1, unless --debug."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if ctx.params.get("debug") or ctx.meta.get(DEBUG):
                raise
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=OneLineErrors,
    help="Integrated social registry.",
    epilog=examples() + "\n\nregistry COMMAND --help tells more.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold secrets and personal data
)
db_app = typer.Typer(
    help="The database: its schema; the embedded server's status and stop.",
    epilog=examples("db upgrade", "db status", "db stop"),
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="People who use the registry.", epilog=examples("users create"), no_args_is_help=True
)
app.add_typer(db_app, name="db")
audit_app = typer.Typer(
    help="The tamper-evident audit trail.",
    epilog=examples("audit verify", "audit anchor"),
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(linkage_app, name="linkage")
app.add_typer(export_app, name="export")
backup_cli.register(app)
db_cli.register(db_app)
import_cli.register(app)


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show an error's traceback, not just its one line.")
    ] = False,
) -> None:
    """Integrated social registry."""


def _ready_engine():  # type: ignore[no-untyped-def]
    """The engine (embedded PostgreSQL unless REGISTRY_DATABASE_URL is set), migrated to head."""
    from registry.db import get_engine, transaction
    from registry.migrate import upgrade_to_head
    from registry.partitions import ensure_partitions

    engine = get_engine()
    upgrade_to_head(engine.url.render_as_string(hide_password=False))
    with transaction(engine) as session:  # monthly partitions ahead (audit, record versions)
        ensure_partitions(session)
    return engine


@db_app.command("upgrade", epilog=examples("db upgrade"))
def db_upgrade() -> None:
    """Apply every pending migration."""
    _ready_engine()
    typer.echo("database at head")


@users_app.command("create", epilog=examples("users create"))
def users_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    region: Annotated[list[str], typer.Option(help="Region scope; '*' for all.")] = [],  # noqa: B006
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create a user (the password is asked for, or read from stdin)."""
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


@audit_app.command("verify", epilog=examples("audit verify"))
def audit_verify() -> None:
    """Check the hash chain; exit 1 at the first broken event."""
    from registry.audit.service import verify_chain
    from registry.db import transaction

    with transaction(_ready_engine()) as session:
        outcome = verify_chain(session)
    if outcome["ok"]:
        typer.echo(f"audit chain ok: {outcome['events_checked']} events")
        return
    typer.echo(f"audit chain BROKEN at event {outcome['first_broken']}", err=True)
    raise typer.Exit(1)


@audit_app.command("anchor", epilog=examples("audit anchor"))
def audit_anchor() -> None:
    """Print the chain's head hash, to keep elsewhere."""
    from registry.audit.service import verify_chain
    from registry.db import transaction

    with transaction(_ready_engine()) as session:
        outcome = verify_chain(session)
    if not outcome["ok"]:
        typer.echo(f"audit chain BROKEN at event {outcome['first_broken']}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{outcome['head']}  events={outcome['events_checked']}")


@app.command(epilog=examples("serve"))
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load the demo programmes and feeds first.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (use the cores).")] = 1,
    graceful_seconds: Annotated[
        int | None, typer.Option(help="On SIGTERM, wait this long for in-flight requests.")
    ] = None,
) -> None:
    """Serve the HTTP API (with --demo: load the demo first, as `registry demo`).

    SIGTERM or SIGINT: in-flight requests finish, then the embedded PostgreSQL stops too
    (unless another registry process still uses it).
    """
    from registry.embedded_control import release_embedded
    from registry.serving import stop_signals

    with stop_signals():
        try:
            _serve(host, port, demo=demo, workers=workers, graceful_seconds=graceful_seconds)
        finally:
            release_embedded()  # here, not at exit: a SIGTERM ends the process without exit hooks


def _serve(host: str, port: int, *, demo: bool, workers: int, graceful_seconds: int | None) -> None:
    """Migrate (and load the demo), then serve until uvicorn has drained after a stop signal."""
    from registry.logging import configure_logging, uvicorn_log_config
    from registry.serving import run_server

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
    run_server(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        access_log=False,  # ours logs route templates; uvicorn's would log query strings
        proxy_headers=False,  # X-Forwarded-*: believed only from REGISTRY_TRUSTED_PROXIES
        timeout_graceful_shutdown=graceful_seconds or settings.shutdown_grace_seconds,
    )


@app.command(epilog=examples("demo"))
def demo(
    persons: Annotated[int, typer.Option(min=100, help="Persons to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the population.")] = 7,
) -> None:
    """Load the demo once: 4 programmes, accounts, and generated feeds through ingest."""
    from registry.demo.loader import load_demo

    load_demo(_ready_engine(), get_settings(), echo=typer.echo, n_persons=persons, seed=seed)


def main() -> None:
    app()
