"""`registry users`: people who use the registry."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from registry.cli.engine import ready_engine
from registry.cli.help import examples
from registry.core.errors import RegistryError

users_app = typer.Typer(
    help="People who use the registry.", epilog=examples("users create"), no_args_is_help=True
)


@users_app.command("create", epilog=examples("users create"))
def users_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    region: Annotated[list[str], typer.Option(help="Region scope; '*' for all.")] = [],  # noqa: B006
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create a user (the password is asked for, or read from stdin)."""
    from registry.access.service import create_user
    from registry.core.db import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = ready_engine()
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
