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
from registry.access.tokens import decode_token
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
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token; any doubt is a 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("a bearer token is required")
    claims = decode_token(credentials.credentials, settings)
    return load_principal(session, str(claims["sub"]))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_audit_context(request: Request, principal: PrincipalDep) -> AuditContext:
    """Who acts, why (X-Purpose) and from where, for the audit trail."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    return AuditContext(
        actor=principal.subject,
        roles=tuple(sorted(principal.roles)),
        purpose=request.headers.get("x-purpose"),
        request_id=request_id[:64],
        client_address=request.client.host if request.client else None,
    )


AuditDep = Annotated[AuditContext, Depends(get_audit_context)]
