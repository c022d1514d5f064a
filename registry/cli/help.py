"""How every command speaks: one example per command, and any error as one line.

Every command's help ends with an example; an error is one line on stderr and exit status 1,
with the traceback only under `registry --debug COMMAND`.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from registry.core.errors import RegistryError

#: ctx.meta key: a command's own --debug (as `registry import --debug`) sets it too.
DEBUG = "registry.debug"
#: One example per command, as `registry --help` lists them.
EXAMPLES = (
    ("serve", "registry serve --demo --port 8000"),
    ("demo", "registry demo --persons 2000"),
    ("import", "registry import --programme SEL85 --mapping sel85.json udtraek.csv"),
    ("switch", "registry switch --programme SEL85 --date 2026-03-01 rekey.csv"),
    ("docs data-dictionary", "registry docs data-dictionary --out docs/data-dictionary.md"),
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
