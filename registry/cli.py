"""The `registry` command: serve, migrate, bootstrap users, load the demo.

Every command's help ends with an example; an error is one line on stderr and exit status 1,
with the traceback only under `registry --debug COMMAND`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from registry import backup_cli, db_cli, import_cli
from registry.errors import ConfigurationError, RegistryError
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
    ("db roles", "registry db roles"),
    ("db status", "registry db status"),
    ("db stop", "registry db stop"),
    ("users create", "registry users create --username ada --role admin"),
    ("audit verify", "registry audit verify --anchors /mnt/anchors/registry.jsonl"),
    ("audit anchor", "registry audit anchor --out /mnt/anchors/registry.jsonl"),
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
    help="The database: its schema and roles; the embedded server's status and stop.",
    epilog=examples("db upgrade", "db roles", "db status", "db stop"),
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
    """The application role's engine; first, as the owner when known, migrate and upkeep.

    The owner is REGISTRY_OWNER_DATABASE_URL, or the embedded server's owner role; with only
    REGISTRY_DATABASE_URL set, nothing is migrated here (`registry db upgrade` does it).
    """
    from registry.db import get_engine, resolve_owner_url
    from registry.migrate import prepare_database

    owner = resolve_owner_url(get_settings())
    if owner is not None:  # monthly partitions ahead (audit, record versions) too
        prepare_database(owner)
    return get_engine()


@db_app.command("upgrade", epilog=examples("db upgrade"))
def db_upgrade() -> None:
    """Apply every pending migration and create the coming months' partitions, as the owner."""
    from registry.db import resolve_database_url, resolve_owner_url
    from registry.migrate import prepare_database

    settings = get_settings()
    prepare_database(resolve_owner_url(settings) or resolve_database_url(settings))
    typer.echo("database at head")


@db_app.command("roles", epilog=examples("db roles"))
def db_roles() -> None:
    """Create the owner and application roles and give the database to the owner (superuser)."""
    from registry.roles import bootstrap_from_urls

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


def _verified(anchors: Path | None) -> dict[str, Any]:
    """The chain's verification, against the signed anchors of a file when one is given."""
    from registry.audit.anchors import anchor_key, read_anchors
    from registry.audit.manifest import verify_trail
    from registry.db import transaction

    kept: list[Any] = []
    refused: list[str] = []
    if anchors is not None and anchors.exists():
        kept, refused = read_anchors(anchors, anchor_key(get_settings()))
    elif anchors is not None:
        anchor_key(get_settings())  # a missing key is the first thing to say
    with transaction(_ready_engine()) as session:
        outcome = verify_trail(session, kept)
    if refused:
        outcome = {**outcome, "ok": False, "problems": [*refused, *outcome["problems"]]}
    return outcome


def _say_broken(outcome: dict[str, Any]) -> None:
    where = f" at event {outcome['first_broken']}" if "first_broken" in outcome else ""
    typer.echo(f"audit chain BROKEN{where}", err=True)
    for problem in outcome["problems"]:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


AnchorsOption = Annotated[
    Path | None,
    typer.Option(help="File of signed anchors (kept outside the database) to check against."),
]


@audit_app.command("verify", epilog=examples("audit verify"))
def audit_verify(anchors: AnchorsOption = None) -> None:
    """Check the chain from genesis and its months (and the anchors); exit 1 naming breaks."""
    if anchors is not None and not anchors.is_file():
        raise RegistryError(f"no such file {anchors}")
    outcome = _verified(anchors)
    if not outcome["ok"]:
        _say_broken(outcome)
    extra = f", extends {outcome['anchors_checked']} anchors" if anchors else ""
    typer.echo(f"audit chain ok: {outcome['events_checked']} events{extra}")


@audit_app.command("anchor", epilog=examples("audit anchor"))
def audit_anchor(
    out: Annotated[
        Path | None,
        typer.Option(help="Append a signed anchor to this file (kept outside the database)."),
    ] = None,
) -> None:
    """Print the chain's head hash; with --out, append a signed anchor of it to a file."""
    from registry.audit.anchors import anchor_key, append_anchor, new_anchor

    outcome = _verified(out)
    if not outcome["ok"]:
        _say_broken(outcome)
    if out is None:
        typer.echo(f"{outcome['head']}  events={outcome['events_checked']}")
        return
    anchor = new_anchor(outcome)
    append_anchor(out, anchor, anchor_key(get_settings()))
    typer.echo(f"{anchor.hash}  events={anchor.count}  anchored event {anchor.event_id} in {out}")


def _check_serving_role(engine: Any, env: str) -> None:
    """Serving as a role that can rewrite the audit trail: refused in prod, warned elsewhere."""
    import logging

    from registry.roles import serving_role_problem

    with engine.connect() as conn:
        problem = serving_role_problem(conn)
    if problem is None:
        return
    advice = "serve as registry_app (registry db roles; REGISTRY_DATABASE_URL)"
    if env == "prod":
        raise ConfigurationError(f"refusing to serve: {problem}; {advice}")
    logging.getLogger(__name__).warning("%s; %s", problem, advice)


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
    _check_serving_role(engine, settings.env)
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
