"""Route access rules: every route declares who may call it, and the declaration is checked.

Usage on a route::

    @router.get("/{person_id}", dependencies=[allow("oversight", "steward", scope="region")])

or ``dependencies=[public()]`` for routes anyone may call. The rule is enforced here (the
caller must hold one of the roles: 403 otherwise, 401 without a valid token) and is read back
by the authorisation matrix test, which fails for a route that declares no rule. Scope
filtering (regions, programmes) stays in the service layer: the ``scope`` field only tells
the matrix test what a foreign-scope caller should get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends
from fastapi.routing import APIRoute

from api.deps import PrincipalDep

#: How the caller's scope restricts the route: not at all, by region, or by feed programme.
Scope = Literal["none", "region", "programme"]


@dataclass(frozen=True)
class Rule:
    """Who may call a route: the roles (empty = public) and how scope restricts it."""

    roles: frozenset[str]
    scope: Scope = "none"

    @property
    def public(self) -> bool:
        return not self.roles


def allow(*roles: str, scope: Scope = "none") -> Any:
    """A route dependency that admits only callers holding one of ``roles``."""
    if not roles:
        raise ValueError("allow() needs at least one role; use public() for open routes")
    rule = Rule(frozenset(roles), scope)

    def check_roles(principal: PrincipalDep) -> None:
        principal.require(*rule.roles)

    check_roles.rule = rule  # type: ignore[attr-defined]
    return Depends(check_roles)


def public() -> Any:
    """A route dependency declaring that the route needs no token."""

    def no_check() -> None:
        return None

    no_check.rule = Rule(frozenset())  # type: ignore[attr-defined]
    return Depends(no_check)


def rule_of(route: APIRoute) -> Rule | None:
    """The rule a route declared through allow() or public(), if any."""
    for dependency in route.dependant.dependencies:
        rule = getattr(dependency.call, "rule", None)
        if isinstance(rule, Rule):
            return rule
    return None
