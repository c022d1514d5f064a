"""Who an audit actor is: `user:N` is a user's name, `client:ID` a feed client's id; and back.

The trail names actors by their token subject (`user:3`, `client:sel85-1a2b…`, `cli:NAME`,
`claimed:…` for a refused token, `anonymous`), which stays stable when a user is renamed or
deleted. Pages show names; an auditor filters by a name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access.models import ApiClient, AppUser
from registry.core.errors import InvalidInput

#: Prefixes a filter may name an actor by directly.
ACTOR_KINDS = ("user:", "client:", "cli:", "claimed:")


@dataclass(frozen=True)
class ActorNames:
    """Display names of actors: users by name, clients by id; others as they are."""

    names: dict[str, str]

    def label(self, actor: str) -> str:
        """The name to show for an actor."""
        return self.names.get(actor, actor)


def actor_names(session: Session, actors: Iterable[str]) -> ActorNames:
    """The names of the given actors (one query for the users among them)."""
    wanted = set(actors)
    ids = {int(a[5:]) for a in wanted if a.startswith("user:") and a[5:].isdigit()}
    names = {a: a.removeprefix("client:") for a in wanted if a.startswith("client:")}
    if ids:
        rows = session.execute(select(AppUser.id, AppUser.username).where(AppUser.id.in_(ids)))
        names.update({f"user:{i}": name for i, name in rows})
    return ActorNames(names)


def actor_named(session: Session, name: str) -> str | None:
    """The actor a name stands for: a user's name, a client id, or an actor itself; else None."""
    name = name.strip()
    if name.startswith(ACTOR_KINDS):
        return name
    user = session.scalars(select(AppUser.id).where(AppUser.username == name)).one_or_none()
    if user is not None:
        return f"user:{user}"
    client = session.scalars(
        select(ApiClient.client_id).where(ApiClient.client_id == name)
    ).one_or_none()
    return f"client:{client}" if client is not None else None


def actor_filter(session: Session, user: str, actor: str | None = None) -> str:
    """The actor a filter's user name (or client id) stands for; InvalidInput when unknown."""
    named = actor_named(session, user)
    if named is None:
        message = "user: no user or feed client has that name"
        rule = "unknown_user"
    elif actor and actor != named:
        message, rule = "user: names another actor than actor", "other_actor"
    else:
        return named
    raise InvalidInput(message, errors=[{"field": "user", "rule": rule, "message": message}])
