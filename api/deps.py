"""Request dependencies: the per-request transaction and the authenticated principal."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.access.service import load_principal
from registry.access.tokens import claimed_subject, decode_token
from registry.audit.service import AuditContext
from registry.core.db import ReadRouter, make_read_router
from registry.core.errors import NotAuthenticated
from registry.core.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: commit on success, roll back on error.

    One exception, named here: a batch submission (registry.submission.submit_batch) owns
    the batch's transaction and commits it itself on this session, then runs its
    after-commit work; whatever the request does after that is committed here as usual.
    """
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

_READ_ROUTER_LOCK = threading.Lock()


def read_router(app: FastAPI) -> ReadRouter:
    """The app's read router (REGISTRY_REPLICA_URL), built on first use from its engine."""
    state = app.state
    router: ReadRouter | None = getattr(state, "read_router", None)
    if router is None:
        with _READ_ROUTER_LOCK:
            router = getattr(state, "read_router", None)
            if router is None:
                router = make_read_router(state.engine, state.settings)
                state.read_router = router
    return router


def get_read_session(request: Request, session: SessionDep) -> Iterator[Session]:
    """Reads that may lag a little (overview, audit trail): a read-only replica transaction.

    Without a replica, or while it is unreachable or behind by more than
    REGISTRY_REPLICA_MAX_LAG_SECONDS, this is the request's own session on the primary. Audit
    events recording what was read are written with ``SessionDep`` (the primary), never here.
    """
    reads = read_router(request.app)
    replica = None
    if reads.read_engine() is not reads.primary:
        replica = reads.replica_session()
        try:
            replica.execute(text("SET TRANSACTION READ ONLY"))
        except DBAPIError as exc:
            replica.close()
            reads.mark_unreachable(exc)
            replica = None
    if replica is None:
        yield session
        return
    with replica:  # closing rolls the read-only transaction back
        try:
            yield replica
        except DBAPIError as exc:
            if exc.connection_invalidated:
                reads.mark_unreachable(exc)
            raise


#: The read-only session of lag-tolerant reads; the same as ``SessionDep`` without a replica.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


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
