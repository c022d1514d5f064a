"""What a feed sent: its batches (with their stored answers) and the issues found per record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base


class FeedBatch(Base):
    __tablename__ = "feed_batch"
    __table_args__ = (UniqueConstraint("programme_id", "batch_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    batch_id: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    submitted_by: Mapped[str] = mapped_column(String(200))
    received: Mapped[int] = mapped_column(Integer, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class FeedError(Base):
    """A rejected record's error, or an accepted record's warning, per field and rule."""

    __tablename__ = "feed_error"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    feed_batch_id: Mapped[int] = mapped_column(ForeignKey("feed_batch.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    source_id: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    field: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("severity IN ('error', 'warning')", name="severity"),
        Index("ix_feed_error_programme_code", "programme_id", "code"),
    )
