"""`registry audit`: verify the tamper-evident trail and anchor its head outside the database."""

from __future__ import annotations

import getpass
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from registry.cli.engine import ready_engine
from registry.cli.help import examples
from registry.core.errors import RegistryError
from registry.core.settings import get_settings

if TYPE_CHECKING:
    from registry.audit.anchors import Anchor
    from registry.audit.schemas import TrailCheck

audit_app = typer.Typer(
    help="The tamper-evident audit trail.",
    epilog=examples("audit verify", "audit anchor"),
    no_args_is_help=True,
)


def _verified(anchors: Path | None) -> TrailCheck:
    """The chain's verification, against the signed anchors of a file when one is given."""
    from registry.audit.anchors import anchor_key, read_anchors
    from registry.audit.manifest import verify_trail
    from registry.core.db import transaction

    kept: list[Anchor] = []
    refused: list[str] = []
    if anchors is not None and anchors.exists():
        kept, refused = read_anchors(anchors, anchor_key(get_settings()))
    elif anchors is not None:
        anchor_key(get_settings())  # a missing key is the first thing to say
    with transaction(ready_engine()) as session:
        outcome = verify_trail(session, kept)
    if refused:
        outcome = replace(outcome, ok=False, problems=[*refused, *outcome.problems])
    return outcome


def _say_broken(outcome: TrailCheck) -> None:
    where = f" at event {outcome.first_broken}" if outcome.first_broken is not None else ""
    typer.echo(f"audit chain BROKEN{where}", err=True)
    for problem in outcome.problems:
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
    if not outcome.ok:
        _say_broken(outcome)
    extra = f", extends {outcome.anchors_checked or 0} anchors" if anchors else ""
    typer.echo(f"audit chain ok: {outcome.events_checked} events{extra}")


@audit_app.command("anchor", epilog=examples("audit anchor"))
def audit_anchor(
    out: Annotated[
        Path | None,
        typer.Option(help="Append a signed anchor to this file (kept outside the database)."),
    ] = None,
) -> None:
    """Print the chain's head hash; with --out, append a signed anchor of it to a file.

    A kept anchor is also noted in the database (`audit_anchor`, not the chain), so the
    auditor's dashboard page can show the last one.
    """
    from registry.audit.anchors import anchor_key, append_anchor, new_anchor
    from registry.audit.status import note_anchor
    from registry.core.db import transaction

    outcome = _verified(out)
    if not outcome.ok:
        _say_broken(outcome)
    if out is None:
        typer.echo(f"{outcome.head}  events={outcome.events_checked}")
        return
    anchor = new_anchor(outcome)
    append_anchor(out, anchor, anchor_key(get_settings()))
    with transaction(ready_engine()) as session:
        note_anchor(session, anchor, f"cli:{getpass.getuser()}")
    typer.echo(f"{anchor.hash}  events={anchor.count}  anchored event {anchor.event_id} in {out}")
