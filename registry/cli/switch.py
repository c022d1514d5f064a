"""`registry switch`: declare a programme's move to a new MIS with a re-keying map (CSV)."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from registry.cli.help import examples


def register(app: typer.Typer) -> None:
    """Add the `switch` command to the registry CLI."""

    @app.command("switch", epilog=examples("switch"))
    def switch_command(
        file: Annotated[Path, typer.Argument(help="CSV map, header old_source_id,new_source_id.")],
        programme: Annotated[str, typer.Option(help="Programme code that switches MIS.")],
        switch_date: Annotated[
            str, typer.Option("--date", help="The day the new MIS took over (YYYY-MM-DD).")
        ],
    ) -> None:
        """Re-key a programme's records from old to new source ids (all-or-nothing).

        Every row is checked first; any problem refuses the whole map, each problem printed
        with its line, field and rule. Records keep their history under the new ids.
        """
        from registry.audit.service import AuditContext
        from registry.cli.engine import ready_engine
        from registry.core.db import transaction
        from registry.core.errors import InvalidInput
        from registry.core.settings import get_settings
        from registry.programmes.service import get_programme
        from registry.programmes.switch import MAX_FILE_BYTES, declare_switch, pairs_from_csv

        try:
            day = date.fromisoformat(switch_date)
        except ValueError as exc:
            raise InvalidInput(f"--date {switch_date!r} is not a date written YYYY-MM-DD") from exc
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        actor = f"cli:{getpass.getuser()}"
        audit = AuditContext(actor=actor, roles=("cli",), enabled=get_settings().audit_enabled)
        try:
            with transaction(ready_engine()) as session:
                answer = declare_switch(
                    session,
                    get_programme(session, programme),
                    switch_date=day,
                    pairs=pairs_from_csv(data),
                    declared_by=actor,
                    audit=audit,
                    channel="csv",
                    file_bytes=data,
                )
        except InvalidInput as exc:
            for problem in exc.errors or ():
                typer.echo(
                    f"line {problem['row']}: {problem['field']}: {problem['code']}: "
                    f"{problem['message']}",
                    err=True,
                )
            raise
        typer.echo(
            f"switch {answer.id} of {answer.programme} on {answer.switch_date}: "
            f"{answer.rekeyed} records re-keyed"
        )
