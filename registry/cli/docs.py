"""`registry docs`: documents generated from the code (the feed record's data dictionary)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.help import examples

docs_app = typer.Typer(
    help="Documents generated from the code.",
    epilog=examples("docs data-dictionary"),
    no_args_is_help=True,
)


@docs_app.command("data-dictionary", epilog=examples("docs data-dictionary"))
def data_dictionary_command(
    out: Annotated[Path, typer.Option(help="Where to write it (- for standard output).")] = Path(
        "docs/data-dictionary.md"
    ),
    check: Annotated[
        bool, typer.Option(help="Write nothing; exit 1 if the file differs from the generated.")
    ] = False,
) -> None:
    """Write the feed record's data dictionary, generated from the field specification."""
    from registry.records.dictionary import data_dictionary

    text = data_dictionary()
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            typer.echo(f"{out} is out of date: run registry docs data-dictionary", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")
