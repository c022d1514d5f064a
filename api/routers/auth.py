"""OAuth2 token endpoint: password grant for people, client_credentials for MIS clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from api.deps import SessionDep, SettingsDep
from registry.access.service import authenticate_client, authenticate_user
from registry.access.tokens import issue_token
from registry.errors import InvalidInput

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=TokenOut)
def token(
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=32)],
    username: Annotated[str | None, Form(max_length=100)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=1024)] = None,
) -> TokenOut:
    """Exchange credentials for a short-lived bearer token."""
    if grant_type == "password" and username is not None and password is not None:
        subject = authenticate_user(session, username, password)
    elif grant_type == "client_credentials" and client_id is not None and client_secret:
        subject = authenticate_client(session, client_id, client_secret)
    else:
        raise InvalidInput(
            "use grant_type=password with username and password, or "
            "grant_type=client_credentials with client_id and client_secret"
        )
    access_token, ttl = issue_token(subject, settings)
    return TokenOut(access_token=access_token, expires_in=ttl)
