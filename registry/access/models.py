"""Who may act: people (app users) and programme MIS clients, with roles and scopes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, DateTime, ForeignKey, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base

ROLES = ("admin", "feed", "oversight", "steward", "auditor", "analyst")
ALL_REGIONS = "*"


class Role(Base):
    """The fixed set of roles (seeded by migration); assignments reference it by name."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(Text)


class AppUser(Base):
    """A person using the registry; regions ["*"] means national scope."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default="{}")
    programmes: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Tokens carry the version they were issued under; bumping it revokes them all.
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class ApiClient(Base):
    """A programme MIS that pushes feeds; bound to exactly one programme, role `feed`."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class LoginThrottle(Base):
    """Failed sign-ins per login name (known or not), and until when it is locked."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(140), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class EndedSession(Base):
    """A dashboard session signed out before its end: its tokens are refused until it expires."""

    __tablename__ = "dashboard_session_end"

    #: The session id (`sid` claim) its tokens carry.
    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(150))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The session's absolute end: past it every token of the session is refused anyway,
    #: so the row may go.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
