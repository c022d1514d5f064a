"""Blocking keys, stored linkage models, the review queue and the identity history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base

REVIEW_STATUSES = ("pending", "match", "non_match", "superseded")
LINK_EVENT_KINDS = ("merge", "split", "match", "non_match", "relink", "rectify")


class BlockingKey(Base):
    """One blocking key of one source record: how candidates are found (btree on key)."""

    __tablename__ = "blocking_key"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    #: Not a foreign key (migration 0008): keys are derived from the records, written by
    #: ingest only for records it has just upserted; source records are never deleted.
    source_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class OversizedBlock(Base):
    """A blocking key whose block held at least `size` records: skipped above the limit."""

    __tablename__ = "blocking_key_oversized"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    noted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LinkageModel(Base):
    """A versioned Fellegi-Sunter model (m/u, prior, thresholds); one is active."""

    __tablename__ = "linkage_model"
    __table_args__ = (
        Index(
            "ix_linkage_model_one_active", "active", unique=True, postgresql_where=text("active")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    pairs_used: Mapped[int] = mapped_column(BigInteger, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchCandidate(Base):
    """A review item: a record, the person it may belong to, the score and its explanation."""

    __tablename__ = "match_candidate"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'match', 'non_match', 'superseded')", name="status"),
        Index(
            "ix_match_candidate_open_pair",
            "source_record_id",
            "candidate_person_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_match_candidate_status_created", "status", "created_at"),
        Index("ix_match_candidate_person", "candidate_person_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), index=True)
    candidate_person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"))
    candidate_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))
    reason: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    weights: Mapped[dict[str, Any]] = mapped_column(JSONB)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_model.id"))
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LinkEvent(Base):
    """A change of identity: merge, split, review decision or relink, with who and why."""

    __tablename__ = "link_event"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('merge', 'split', 'match', 'non_match', 'relink', 'rectify')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    other_person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    source_record_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
