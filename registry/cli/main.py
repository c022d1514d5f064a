"""The `registry` command: serve, migrate, bootstrap users, load the demo; the groups assembled.

Every command's help ends with an example; an error is one line on stderr and exit status 1,
with the traceback only under `registry --debug COMMAND`.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from registry.cli import backup, imports, switch
from registry.cli.audit import audit_app
from registry.cli.db import db_app
from registry.cli.docs import docs_app
from registry.cli.engine import ready_engine
from registry.cli.export import export_app
from registry.cli.help import EXAMPLES, OneLineErrors, examples
from registry.cli.linkage import linkage_app
from registry.cli.users import users_app
from registry.core.errors import ConfigurationError
from registry.core.settings import get_settings

__all__ = ["EXAMPLES", "app", "main"]

app = typer.Typer(
    cls=OneLineErrors,
    help="Integrated social registry.",
    epilog=examples() + "\n\nregistry COMMAND --help tells more.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold secrets and personal data
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(linkage_app, name="linkage")
app.add_typer(export_app, name="export")
app.add_typer(docs_app, name="docs")
backup.register(app)
imports.register(app)
switch.register(app)


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show an error's traceback, not just its one line.")
    ] = False,
) -> None:
    """Integrated social registry."""


def _check_serving_role(engine: Any, env: str) -> None:
    """Serving as a role that can rewrite the audit trail: refused in prod, warned elsewhere."""
    import logging

    from registry.core.roles import serving_role_problem

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
    from registry.core.embedded_control import release_embedded
    from registry.core.serving import stop_signals

    with stop_signals():
        try:
            _serve(host, port, demo=demo, workers=workers, graceful_seconds=graceful_seconds)
        finally:
            release_embedded()  # here, not at exit: a SIGTERM ends the process without exit hooks


def _serve(host: str, port: int, *, demo: bool, workers: int, graceful_seconds: int | None) -> None:
    """Migrate (and load the demo), then serve until uvicorn has drained after a stop signal."""
    from registry.core.logging import configure_logging, uvicorn_log_config
    from registry.core.serving import run_server

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = ready_engine()
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

    load_demo(ready_engine(), get_settings(), echo=typer.echo, n_persons=persons, seed=seed)


def main() -> None:
    app()
