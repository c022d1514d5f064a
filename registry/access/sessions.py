"""Dashboard sessions: a token that slides while in use, an absolute end, sign-out of one session.

A session token is an access token with the dashboard's own audience (so it is no API token)
and two more claims: `sid`, the session id, and `sst`, when the session began. Each token
lives `token_ttl_seconds` (the idle limit); a page view in the second half of a token's life
gets a new token of the same session (sliding window), but never past `sst +
session_max_seconds` (the absolute limit). Signing out records the session id in
`dashboard_session_end`, so that session's tokens are refused while the user's other
sessions (other browsers) live on; disabling a user or changing the password still ends all.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from registry.access.models import EndedSession
from registry.access.tokens import decode_token, issue_token
from registry.core.errors import NotAuthenticated
from registry.core.settings import Settings

_ENDED = "the session has ended: sign in again"


def session_audience(settings: Settings) -> str:
    """The audience of dashboard session tokens: the API's, marked as the dashboard's."""
    return f"{settings.jwt_audience}/dashboard"


@dataclass(frozen=True)
class DashboardSession:
    """One browser's session: whose, which, when it began, when this token and it end."""

    subject: str
    version: int
    sid: str
    started: int
    #: this token's end (epoch seconds): without a page view before then, the session ends
    expires: int
    #: the absolute end: no renewal reaches past it
    ends: int

    @property
    def final(self) -> bool:
        """This token runs to the absolute end: no page view extends the session."""
        return self.expires >= self.ends


@dataclass(frozen=True)
class IssuedSession:
    """A signed session token, its cookie lifetime, and the session it carries."""

    token: str
    max_age: int
    session: DashboardSession


def _sign(session: DashboardSession, settings: Settings, now: int) -> IssuedSession:
    token, ttl = issue_token(
        session.subject,
        settings,
        session.version,
        audience=session_audience(settings),
        now=now,
        expires=session.expires,
        extra={"sid": session.sid, "sst": session.started},
    )
    return IssuedSession(token, ttl, session)


def start_session(
    subject: str, version: int, settings: Settings, now: int | None = None
) -> IssuedSession:
    """A new session after a sign-in: a fresh session id, its first token."""
    now = int(time.time()) if now is None else now
    ends = now + settings.session_max_seconds
    session = DashboardSession(
        subject=subject,
        version=version,
        sid=secrets.token_urlsafe(18),
        started=now,
        expires=min(now + settings.token_ttl_seconds, ends),
        ends=ends,
    )
    return _sign(session, settings, now)


def renew_session(
    session: DashboardSession, settings: Settings, now: int | None = None
) -> IssuedSession | None:
    """A new token of the same session if this one is in the second half of its life."""
    now = int(time.time()) if now is None else now
    if session.final or session.expires - now > settings.token_ttl_seconds // 2:
        return None
    expires = min(now + settings.token_ttl_seconds, session.ends)
    return _sign(replace(session, expires=expires), settings, now)


def read_session(
    db: Session, token: str, settings: Settings, now: int | None = None
) -> DashboardSession:
    """The session a token carries: signature, expiry, absolute end and sign-out checked."""
    claims = decode_token(token, settings, audience=session_audience(settings))
    sid, started = claims.get("sid"), claims.get("sst")
    if not isinstance(sid, str) or not sid or len(sid) > 32:
        raise NotAuthenticated("the token is not valid")
    if not isinstance(started, int) or isinstance(started, bool):
        raise NotAuthenticated("the token is not valid")
    now = int(time.time()) if now is None else now
    ends = started + settings.session_max_seconds
    if now >= ends:
        raise NotAuthenticated(_ENDED)
    if db.scalar(select(EndedSession.sid).where(EndedSession.sid == sid)) is not None:
        raise NotAuthenticated(_ENDED)
    return DashboardSession(
        subject=str(claims["sub"]),
        version=int(claims["ver"]),
        sid=sid,
        started=started,
        expires=min(int(claims["exp"]), ends),
        ends=ends,
    )


def end_session(db: Session, session: DashboardSession) -> None:
    """Sign one session out (its tokens are refused from now on); forget expired ones."""
    db.execute(
        insert(EndedSession)
        .values(
            sid=session.sid,
            subject=session.subject,
            expires_at=datetime.fromtimestamp(session.ends, UTC),
        )
        .on_conflict_do_nothing(index_elements=["sid"])
    )
    db.execute(delete(EndedSession).where(EndedSession.expires_at < datetime.now(UTC)))
