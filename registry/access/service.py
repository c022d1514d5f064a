"""Users, feed clients, and authentication (password and client-credentials grants)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.access.models import ROLES, ApiClient, AppUser, LoginThrottle
from registry.access.password_policy import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from registry.access.password_policy import check_password
from registry.access.passwords import hash_secret, verify_secret
from registry.access.principal import Principal
from registry.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from registry.core.settings import Settings
from registry.programmes.models import Programme
from registry.programmes.service import get_programme

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")
#: A region a user may be scoped to: a region code as records carry it, or "*" (national).
_REGION = re.compile(r"^(\*|[A-Za-z0-9_-]{1,16})$")
#: At most this many regions or programmes on one user.
MAX_SCOPES = 200
_BAD_CREDENTIALS = "the credentials are not valid"


@dataclass(frozen=True)
class IssuedClient:
    """A new feed client; the secret is shown once and stored only as a hash."""

    client_id: str
    client_secret: str
    programme: str
    name: str


@dataclass(frozen=True)
class UserAccount:
    """A person's account: login name, roles and region/programme scopes."""

    id: int
    username: str
    roles: list[str]
    regions: list[str]
    programmes: list[str]
    disabled: bool

    @classmethod
    def of(cls, user: AppUser) -> UserAccount:
        """The account of a user row."""
        return cls(
            user.id,
            user.username,
            list(user.roles),
            list(user.regions),
            list(user.programmes),
            bool(user.disabled),
        )


@dataclass(frozen=True)
class UserPage:
    """A page of users by name; `next_after` continues the listing."""

    users: list[UserAccount]
    next_after: str | None


@dataclass(frozen=True)
class ClientAccount:
    """A feed client as an administrator lists it: no secret, not even its hash."""

    client_id: str
    name: str
    programme: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Authenticated:
    """A successful sign-in: the token subject and the token version to sign into it."""

    subject: str
    version: int
    roles: tuple[str, ...] = ()


class LoginRefused(NotAuthenticated):
    """A refused sign-in: the caller sees the one 401; the audit trail sees why and whom."""

    def __init__(
        self,
        throttle_key: str,
        subject: str | None,
        reason: str,
        action: str = "auth.login",
        *,
        locked: bool = False,
    ) -> None:
        super().__init__(_BAD_CREDENTIALS)
        self.throttle_key = throttle_key
        self.subject = subject
        self.reason = reason
        self.action = action
        #: the login name is locked after this attempt (already counted by reserve_attempt)
        self.locked = locked


def _refused(field: str, rule: str, message: str, limit: int | None = None) -> InvalidInput:
    """A refusal naming the field and the rule it broke (a form translates the rule)."""
    error: dict[str, object] = {"field": field, "rule": rule, "message": message}
    if limit is not None:
        error["limit"] = limit
    return InvalidInput(message, errors=[error])


def _check_roles(roles: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise _refused("roles", "roles", f"roles must be a non-empty subset of {', '.join(ROLES)}")
    if "feed" in roles:
        raise _refused(
            "roles", "feed_role", "the feed role belongs to API clients; create a client instead"
        )


def _check_scopes(regions: list[str], programmes: list[str]) -> None:
    """Regions are region codes (or "*"); both lists are bounded."""
    for field, values in (("regions", regions), ("programmes", programmes)):
        if len(values) > MAX_SCOPES:
            raise _refused(
                field, "max_items", f"{field} may list at most {MAX_SCOPES} codes", MAX_SCOPES
            )
    bad = [r for r in regions if not _REGION.match(r)]
    if bad:
        raise _refused(
            "regions",
            "region_code",
            "regions must be region codes (1-16 letters, digits, '_' or '-') or '*'",
        )


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    regions: list[str],
    programmes: list[str],
) -> UserAccount:
    """Create a user with an Argon2-hashed password, roles and region/programme scopes."""
    if not _USERNAME.match(username):
        raise _refused("username", "username", "username must be 2-100 letters, digits or ._@-")
    check_password(password, username)
    _check_roles(roles)
    _check_scopes(regions, programmes)
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
        raise Conflict(
            f"user {username!r} already exists",
            errors=[{"field": "username", "rule": "exists", "message": "already exists"}],
        ) from exc
    return UserAccount.of(user)


def list_users(session: Session, *, after: str | None = None, limit: int = 200) -> UserPage:
    """Users by name, a page at a time (`after`: the last name of the page before)."""
    query = select(AppUser).order_by(AppUser.username).limit(limit + 1)
    if after:
        query = query.where(AppUser.username > after)
    users = [UserAccount.of(u) for u in session.scalars(query)]
    more = len(users) > limit
    users = users[:limit]
    return UserPage(users, users[-1].username if more and users else None)


def get_user(session: Session, username: str) -> UserAccount:
    """One user's account by name, or NotFound."""
    user = session.scalars(select(AppUser).where(AppUser.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return UserAccount.of(user)


def list_clients(session: Session, *, limit: int = 500) -> list[ClientAccount]:
    """Feed clients by programme and id (never their secrets), at most `limit`."""
    rows = session.execute(
        select(ApiClient, Programme.code)
        .join(Programme, Programme.id == ApiClient.programme_id)
        .order_by(Programme.code, ApiClient.client_id)
        .limit(limit)
    ).all()
    return [
        ClientAccount(c.client_id, c.name, code, bool(c.disabled), c.created_at) for c, code in rows
    ]


def reset_password(session: Session, username: str, password: str, *, by: str) -> UserAccount:
    """An administrator sets a user's password: the policy holds, its tokens and lock go.

    Not for one's own account (that is a password change, which asks for the current one).
    """
    user = _user_by_name(session, username)
    if by == f"user:{user.id}":
        raise _refused(
            "password",
            "own_account",
            "change your own password yourself (it asks for the current one)",
        )
    check_password(password, user.username)
    user.password_hash = hash_secret(password)
    user.token_version += 1
    _clear_failures(session, _throttle_key("user", user.username))
    session.flush()
    return UserAccount.of(user)


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


def _user_by_name(session: Session, username: str) -> AppUser:
    user = session.scalars(
        select(AppUser).where(AppUser.username == username).with_for_update()
    ).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def disable_user(session: Session, username: str, *, by: str) -> UserAccount:
    """Disable a user and revoke every token it holds (its token version moves on)."""
    user = _user_by_name(session, username)
    if by == f"user:{user.id}":
        raise _refused(
            "username", "own_account_disable", "an administrator cannot disable their own account"
        )
    user.disabled = True
    user.token_version += 1
    session.flush()
    return UserAccount.of(user)


def enable_user(session: Session, username: str) -> UserAccount:
    """Enable a disabled user again (tokens issued before the disable stay revoked)."""
    user = _user_by_name(session, username)
    user.disabled = False
    session.flush()
    return UserAccount.of(user)


def rotate_client_secret(session: Session, client_id: str) -> IssuedClient:
    """Give a feed client a new one-time secret; the old secret and its tokens stop working."""
    client = session.scalars(
        select(ApiClient).where(ApiClient.client_id == client_id).with_for_update()
    ).one_or_none()
    if client is None:
        raise NotFound(f"client {client_id!r} does not exist")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hash_secret(secret)
    client.token_version += 1
    session.flush()
    programme = session.get(Programme, client.programme_id)
    return IssuedClient(client.client_id, secret, programme.code if programme else "", client.name)


def revoke_tokens(session: Session, subject: str) -> None:
    """Revoke every token of a subject issued so far (logout): its token version moves on."""
    kind, _, key = subject.partition(":")
    if kind == "user" and key.isdigit():
        session.execute(
            update(AppUser)
            .where(AppUser.id == int(key))
            .values(token_version=AppUser.token_version + 1)
        )
    elif kind == "client":
        session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == key)
            .values(token_version=ApiClient.token_version + 1)
        )


def _throttle_key(kind: str, name: str) -> str:
    return f"{kind}:{name.strip().lower()}"[:140]


_RESERVE_ATTEMPT = text(
    """
    UPDATE login_throttle SET
        failures = failures + 1,
        last_failure_at = now(),
        locked_until = CASE
            WHEN failures + 1 >= :threshold THEN now() + make_interval(secs =>
                least(:base * power(2, failures + 1 - :threshold), :cap))
            ELSE locked_until END
    WHERE key = :key AND (locked_until IS NULL OR locked_until <= now())
    RETURNING coalesce(locked_until > now(), false)
    """
)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt as the throttle saw it: may its secret be checked, is the name locked."""

    allowed: bool
    locked: bool


def reserve_attempt(session: Session, key: str, settings: Settings) -> Attempt:
    """Count a sign-in attempt as a failure *before* its secret is checked (a success clears it).

    The UPDATE takes the throttle row's lock and re-reads the row it waited for, so of any
    number of attempts in flight at once, at most ``login_lock_threshold`` in a row are
    allowed; the one that reaches it sets the lock (doubling for every further failure, up to
    the maximum). Attempts while locked are refused unchecked and neither count nor extend
    the lock. The count must stand whatever the request does next, so this COMMITS the
    session: call it before the request writes anything. (Its own transaction on the same
    connection, not a second connection: a flood of sign-ins cannot drain the pool.)
    """
    session.execute(
        text(
            "INSERT INTO login_throttle (key, failures, locked_until, last_failure_at) "
            "VALUES (:key, 0, NULL, now()) ON CONFLICT (key) DO NOTHING"
        ),
        {"key": key},
    )
    locked = session.execute(
        _RESERVE_ATTEMPT,
        {
            "key": key,
            "threshold": max(settings.login_lock_threshold, 1),
            "base": settings.login_lock_seconds,
            "cap": settings.login_lock_max_seconds,
        },
    ).scalar_one_or_none()
    session.commit()
    if locked is None:
        return Attempt(allowed=False, locked=True)
    return Attempt(allowed=True, locked=bool(locked))


def _clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def authenticate_user(
    session: Session, username: str, password: str, settings: Settings
) -> Authenticated:
    """Check a password grant; returns subject and token version or raises the one 401.

    Known and unknown names cost the same (a dummy hash) and are throttled the same, so
    neither the answer, its timing, nor a lockout tells whether the user exists. The attempt
    is counted before the password is checked (:func:`reserve_attempt`); a locked name is
    refused without checking it.
    """
    key = _throttle_key("user", username)
    attempt = reserve_attempt(session, key, settings)
    user = session.scalars(select(AppUser).where(AppUser.username == username)).one_or_none()
    subject = f"user:{user.id}" if user else None
    if not attempt.allowed:
        raise LoginRefused(key, subject, "locked", locked=True)
    ok = verify_secret(password, user.password_hash if user else None)
    if not ok or user is None:
        raise LoginRefused(key, subject, "bad_credentials", locked=attempt.locked)
    if user.disabled:
        raise LoginRefused(key, subject, "disabled", locked=attempt.locked)
    _clear_failures(session, key)
    return Authenticated(f"user:{user.id}", user.token_version, tuple(user.roles))


def authenticate_client(
    session: Session, client_id: str, client_secret: str, settings: Settings
) -> Authenticated:
    """Check a client-credentials grant; returns subject and token version or the one 401."""
    key = _throttle_key("client", client_id)
    attempt = reserve_attempt(session, key, settings)
    client = session.scalars(
        select(ApiClient).where(ApiClient.client_id == client_id)
    ).one_or_none()
    subject = f"client:{client.client_id}" if client else None
    if not attempt.allowed:
        raise LoginRefused(key, subject, "locked", locked=True)
    ok = verify_secret(client_secret, client.secret_hash if client else None)
    if not ok or client is None:
        raise LoginRefused(key, subject, "bad_credentials", locked=attempt.locked)
    if client.disabled:
        raise LoginRefused(key, subject, "disabled", locked=attempt.locked)
    _clear_failures(session, key)
    return Authenticated(f"client:{client.client_id}", client.token_version, ("feed",))


def change_password(
    session: Session, subject: str, current: str, new: str, settings: Settings
) -> None:
    """A user's own password change: the current password, the policy; other tokens revoked.

    Checking the current password is a sign-in attempt: throttled like one, on the same name.
    The new password's policy is checked first, so a refused new password counts no failure.
    """
    kind, _, key = subject.partition(":")
    if kind != "user" or not key.isdigit():
        raise Forbidden("only people have passwords; feed clients rotate secrets via an admin")
    user = session.get(AppUser, int(key))
    if user is None:
        raise NotAuthenticated("the token is not valid")
    if current == new:
        raise InvalidInput("the new password must differ from the current one")
    check_password(new, user.username)
    throttle = _throttle_key("user", user.username)
    attempt = reserve_attempt(session, throttle, settings)
    if not attempt.allowed:
        raise LoginRefused(throttle, subject, "locked", "user.password_change", locked=True)
    session.refresh(user, with_for_update=True)
    if not verify_secret(current, user.password_hash):
        raise LoginRefused(
            throttle, subject, "bad_credentials", "user.password_change", locked=attempt.locked
        )
    _clear_failures(session, throttle)
    user.password_hash = hash_secret(new)
    user.token_version += 1
    session.flush()


def load_principal(session: Session, subject: str, version: int = 0) -> Principal:
    """Resolve a token subject to a live principal (disabled, deleted or revoked → 401)."""
    kind, _, key = subject.partition(":")
    if kind == "user" and key.isdigit():
        user = session.get(AppUser, int(key))
        if user is not None and not user.disabled and user.token_version == version:
            return Principal(
                subject,
                user.username,
                frozenset(user.roles),
                frozenset(user.regions),
                frozenset(user.programmes),
            )
    elif kind == "client":
        client = session.scalars(select(ApiClient).where(ApiClient.client_id == key)).one_or_none()
        if client is not None and not client.disabled and client.token_version == version:
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
