"""Users, feed clients, and authentication (password and client-credentials grants)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.access.models import ROLES, ApiClient, AppUser
from registry.access.passwords import hash_secret, verify_secret
from registry.access.principal import Principal
from registry.errors import Conflict, InvalidInput, NotAuthenticated
from registry.programmes.models import Programme
from registry.programmes.service import get_programme

MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")
_BAD_CREDENTIALS = "the credentials are not valid"


@dataclass(frozen=True)
class IssuedClient:
    """A new feed client; the secret is shown once and stored only as a hash."""

    client_id: str
    client_secret: str
    programme: str
    name: str


def _check_roles(roles: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise InvalidInput(f"roles must be a non-empty subset of {', '.join(ROLES)}")
    if "feed" in roles:
        raise InvalidInput("the feed role belongs to API clients; create a client instead")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    regions: list[str],
    programmes: list[str],
) -> AppUser:
    """Create a user with an Argon2-hashed password, roles and region/programme scopes."""
    if not _USERNAME.match(username):
        raise InvalidInput("username must be 2-100 letters, digits or ._@-")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    _check_roles(roles)
    for code in programmes:
        get_programme(session, code)
    user = AppUser(
        username=username,
        password_hash=hash_secret(password),
        roles=sorted(set(roles)),
        regions=sorted(set(regions)),
        programmes=sorted(set(programmes)),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} already exists") from exc
    return user


def create_client(session: Session, *, programme_code: str, name: str) -> IssuedClient:
    """Create a feed client bound to one programme; returns its one-time secret."""
    programme = get_programme(session, programme_code)
    client_id = f"{programme.code.lower()}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiClient(
            client_id=client_id,
            secret_hash=hash_secret(secret),
            name=name,
            programme_id=programme.id,
        )
    )
    session.flush()
    return IssuedClient(client_id, secret, programme.code, name)


def authenticate_user(session: Session, username: str, password: str) -> str:
    """Check a password grant; returns the token subject or raises the one 401."""
    user = session.scalars(select(AppUser).where(AppUser.username == username)).one_or_none()
    ok = verify_secret(password, user.password_hash if user else None)
    if not ok or user is None or user.disabled:
        raise NotAuthenticated(_BAD_CREDENTIALS)
    return f"user:{user.id}"


def authenticate_client(session: Session, client_id: str, client_secret: str) -> str:
    """Check a client-credentials grant; returns the token subject or raises the one 401."""
    client = session.scalars(
        select(ApiClient).where(ApiClient.client_id == client_id)
    ).one_or_none()
    ok = verify_secret(client_secret, client.secret_hash if client else None)
    if not ok or client is None or client.disabled:
        raise NotAuthenticated(_BAD_CREDENTIALS)
    return f"client:{client.client_id}"


def load_principal(session: Session, subject: str) -> Principal:
    """Resolve a token subject to a live principal (disabled or deleted → 401)."""
    kind, _, key = subject.partition(":")
    if kind == "user" and key.isdigit():
        user = session.get(AppUser, int(key))
        if user is not None and not user.disabled:
            return Principal(
                subject,
                user.username,
                frozenset(user.roles),
                frozenset(user.regions),
                frozenset(user.programmes),
            )
    elif kind == "client":
        client = session.scalars(select(ApiClient).where(ApiClient.client_id == key)).one_or_none()
        if client is not None and not client.disabled:
            programme = session.get(Programme, client.programme_id)
            if programme is not None:
                return Principal(
                    subject,
                    client.name,
                    frozenset({"feed"}),
                    frozenset(),
                    frozenset({programme.code}),
                )
    raise NotAuthenticated("the token is not valid")
