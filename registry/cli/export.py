"""`registry export …`: data for statistics without identities (pseudonymised CSV)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from registry.core.errors import RegistryError

EXAMPLE = "Example:\n\n  registry export pseudonymised --out stats --key-file pk.txt"
export_app = typer.Typer(
    help="Exports for statistics, without identities.", epilog=EXAMPLE, no_args_is_help=True
)


@export_app.command("pseudonymised", epilog=EXAMPLE)
def export_pseudonymised_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write persons.csv and enrolments.csv")
    ],
    key_file: Annotated[
        Path | None,
        typer.Option(help="File holding the pseudonym key (else REGISTRY_PSEUDONYM_KEY[_FILE])."),
    ] = None,
) -> None:
    """Persons and enrolments keyed by an HMAC pseudonym; no names, IDs or birth dates."""
    from registry.audit.service import AuditContext, record_event
    from registry.cli.engine import ready_engine
    from registry.core.db import transaction
    from registry.core.settings import get_settings
    from registry.subject.service import export_pseudonymised, pseudonym_key

    settings = get_settings()
    if key_file is not None:
        settings = settings.model_copy(
            update={"pseudonym_key": None, "pseudonym_key_file": key_file}
        )
    try:
        key = pseudonym_key(settings, out)
        with transaction(ready_engine()) as session:
            counts = export_pseudonymised(session, out, key)
            record_event(
                session,
                AuditContext(actor=f"cli:{getpass.getuser()}", roles=("cli",)),
                "export.pseudonymised",
                detail={"out": str(out.resolve()), **counts},
            )
    except RegistryError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {counts['persons']} persons and {counts['enrolments']} enrolments to {out}")
