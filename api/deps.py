"""Request dependencies: the per-request transaction and the authenticated principal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.access.service import load_principal
from registry.access.tokens import claimed_subject, decode_token
from registry.audit.service import AuditContext
from registry.errors import NotAuthenticated
from registry.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on error."""
    factory = request.app.state.sessions
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


#: scope="function": the commit happens before the response is sent, so a 200 is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token; any doubt is a 401.

    The claimed subject (unverified) and then the principal are kept on ``request.state``,
    so a refusal can name who was refused in the audit trail.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("a bearer token is required")
    request.state.claimed_subject = claimed_subject(credentials.credentials)
    claims = decode_token(credentials.credentials, settings)
    principal = load_principal(session, str(claims["sub"]), int(claims["ver"]))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def audit_context_for(request: Request, actor: str, roles: tuple[str, ...] = ()) -> AuditContext:
    """The audit context of a request for a given actor (also before anyone is signed in)."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    settings: Settings = request.app.state.settings
    return AuditContext(
        actor=actor,
        roles=tuple(sorted(roles)),
        purpose=request.headers.get("x-purpose"),
        request_id=request_id[:64],
        client_address=request.client.host if request.client else None,
        enabled=settings.audit_enabled,
    )


def get_audit_context(request: Request, principal: PrincipalDep) -> AuditContext:
    """Who acts, why (X-Purpose) and from where, for the audit trail."""
    return audit_context_for(request, principal.subject, tuple(principal.roles))


AuditDep = Annotated[AuditContext, Depends(get_audit_context)]
