"""`registry linkage train|relink`: re-estimate the model, re-score the whole registry."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

linkage_app = typer.Typer(
    help="Probabilistic linkage: model training and relinking.",
    epilog="Examples:\n\n  registry linkage train\n\n  registry linkage relink --apply",
    no_args_is_help=True,
)


@linkage_app.command("train", epilog="Example:\n\n  registry linkage train")
def train(
    activate: Annotated[bool, typer.Option(help="Make the new model the active one.")] = True,
) -> None:
    """Estimate m/u from the registry and store a new model version."""
    from registry.cli.engine import ready_engine
    from registry.core.db import transaction
    from registry.matching.training import train_and_store

    with transaction(ready_engine()) as session:
        try:
            result = train_and_store(session, actor="cli:linkage-train", activate=activate)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    model = result.model
    typer.echo(
        f"model {result.model_id} ({result.method}; {result.records} records, "
        f"{result.id_pairs} ID-confirmed pairs, {result.random_pairs} random pairs); "
        f"thresholds link >= {model.upper:g}, review >= {model.lower:g}"
        + ("; active" if activate else "")
    )
    for f in model.fields:
        typer.echo(f"  {f.name:<13} weights " + " ".join(f"{w:+.1f}" for w in f.weights()))


#: What each relink stage counts.
_UNITS = {"reading": "step", "pairing": "chunk", "scoring": "pair", "clustering": "step"}


@linkage_app.command(
    "relink",
    epilog="Examples:\n\n  registry linkage relink            (dry run: what would change)"
    "\n\n  registry linkage relink --apply",
)
def relink(
    apply: Annotated[bool, typer.Option(help="Apply the changes (default: report only).")] = False,
) -> None:
    """Re-score every record with the active model; report, and with --apply, relink."""
    from tqdm import tqdm

    from registry.cli.engine import ready_engine
    from registry.core.db import transaction
    from registry.core.settings import get_settings
    from registry.matching.blocks import remeasure_oversized_blocks
    from registry.matching.relink import apply_relink, plan_relink
    from registry.matching.store import active_model

    with transaction(ready_engine()) as session:
        model_id, model = active_model(session)
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                for previous in bars.values():
                    previous.close()
                bar = bars[stage] = tqdm(total=total, desc=stage, unit=_UNITS[stage], disable=None)
            bar.total = total
            bar.n = done
            bar.refresh()

        settings = get_settings()
        plan = plan_relink(
            session,
            model,
            per_record=settings.linkage_max_candidates,
            pair_block=settings.linkage_pair_block,
            single_block=settings.linkage_single_block,
            progress=progress,
            hold_identities=apply,
        )
        for bar in bars.values():
            bar.close()
        typer.echo(json.dumps(asdict(plan.summary()), indent=2))
        if not apply:
            typer.echo("dry run: nothing changed (use --apply)")
            return
        apply_relink(session, plan, actor="cli:linkage-relink", model_id=model_id)
        shrunk = remeasure_oversized_blocks(session)
    typer.echo(
        f"applied: {len(plan.moves)} records moved, {plan.summary().reviews} reviews queued, "
        f"{shrunk} oversized blocks found smaller"
    )
