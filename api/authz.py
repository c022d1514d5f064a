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

import logging
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, audit_context_for
from api.errors import error_body
from registry.access.models import ROLES
from registry.access.principal import Principal
from registry.access.service import LoginRefused
from registry.audit.service import record_event
from registry.core.db import transaction
from registry.core.errors import Forbidden, NotAuthenticated, RegistryError

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


def rule_of(route: Any) -> Rule | None:
    """The rule a route declared through allow() or public(), if any."""
    for dependency in route.dependant.dependencies:
        rule = getattr(dependency.call, "rule", None)
        if isinstance(rule, Rule):
            return rule
    return None


@dataclass(frozen=True)
class DeclaredRoute:
    """One (method, full path) of the app with the rule it declared (None: undeclared)."""

    method: str
    path: str
    route: APIRoute
    rule: Rule | None


def route_table(app: FastAPI) -> list[DeclaredRoute]:
    """Every API route × method as served, with its declared rule (docs routes excluded)."""
    table: list[DeclaredRoute] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        effective = context._effective_route if hasattr(context, "_effective_route") else route
        rule = rule_of(effective) if hasattr(effective, "dependant") else rule_of(route)
        for method in sorted(context.methods or route.methods or ()):
            table.append(DeclaredRoute(method, str(context.path), route, rule))
    return table


#: Every role; routes any signed-in caller may use declare ``allow(*ANY_ROLE)``.
ANY_ROLE = ROLES
#: Every role held by people (not feed clients): self-service routes.
ANY_PERSON_ROLE = tuple(r for r in ROLES if r != "feed")

logger = logging.getLogger(__name__)


def write_refusal(request: Request, exc: RegistryError) -> None:
    """Audit a refused request in its own transaction (the request's own one rolled back)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        actor, roles = principal.subject, tuple(principal.roles)
    elif isinstance(exc, LoginRefused) and exc.subject:
        actor, roles = exc.subject, ()
    else:
        claimed = getattr(request.state, "claimed_subject", None)
        actor, roles = (f"claimed:{claimed}" if claimed else "anonymous"), ()
    context = audit_context_for(request, actor[:200], roles)
    route = request.scope.get("route")
    template = getattr(route, "path", None) or "(unrouted)"
    person = request.path_params.get("person_id")
    with transaction(request.app.state.engine) as session:
        if isinstance(exc, LoginRefused):
            record_event(  # the attempt was counted before its secret was checked
                session,
                context,
                exc.action,
                outcome="failure",
                detail={"login": exc.throttle_key, "reason": exc.reason, "locked": exc.locked},
            )
            return
        record_event(
            session,
            context,
            "access.refused",
            outcome="unauthenticated" if exc.status_code == 401 else "forbidden",
            person_ids=[str(person)[:64]] if person else [],
            detail={"method": request.method, "route": template, "status": exc.status_code},
        )


def install_refusal_audit(app: FastAPI) -> None:
    """Answer 401/403 as usual, after writing the refusal (and a failed sign-in) to the trail."""

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RegistryError)
        try:
            await run_in_threadpool(write_refusal, request, exc)
        except Exception:  # the refusal stands even if the trail cannot be written
            logger.exception("could not audit a refused request")
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            error_body(exc.kind, exc.detail, exc.errors), exc.status_code, headers=headers
        )

    app.add_exception_handler(NotAuthenticated, refused)
    app.add_exception_handler(Forbidden, refused)
