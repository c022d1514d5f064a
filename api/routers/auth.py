"""OAuth2 token endpoint: password grant for people, client_credentials for MIS clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel

from api.authz import ANY_ROLE, allow, public
from api.deps import AuditDep, PrincipalDep, SessionDep, SettingsDep, audit_context_for
from registry.access.service import authenticate_client, authenticate_user, revoke_tokens
from registry.access.tokens import issue_token
from registry.audit.service import record_event
from registry.core.errors import InvalidInput

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    """An OAuth2 bearer token (RFC 6749 section 5.1) and its lifetime in seconds."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=TokenOut, dependencies=[public()])
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=32)],
    username: Annotated[str | None, Form(max_length=100)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=1024)] = None,
) -> TokenOut:
    """Exchange credentials for a short-lived bearer token.

    Every sign-in is audited: a success with the token, a failure in a transaction of its own
    (so it survives the 401). Repeated failures lock the login name for a doubling time, known
    or unknown alike, and the answer stays the same 401.
    """
    if grant_type == "password" and username is not None and password is not None:
        signed_in = authenticate_user(session, username, password, settings)
    elif grant_type == "client_credentials" and client_id is not None and client_secret:
        signed_in = authenticate_client(session, client_id, client_secret, settings)
    else:
        raise InvalidInput(
            "use grant_type=password with username and password, or "
            "grant_type=client_credentials with client_id and client_secret"
        )
    record_event(
        session,
        audit_context_for(request, signed_in.subject, signed_in.roles),
        "auth.login",
        detail={"grant": grant_type},
    )
    access_token, ttl = issue_token(signed_in.subject, settings, signed_in.version)
    return TokenOut(access_token=access_token, expires_in=ttl)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    response_model=None,
    dependencies=[allow(*ANY_ROLE)],
)
def logout(session: SessionDep, principal: PrincipalDep, audit: AuditDep) -> Response:
    """Revoke the caller's tokens: this one and every other issued to the same subject."""
    revoke_tokens(session, principal.subject)
    record_event(session, audit, "auth.logout")
    return Response(status_code=204)
