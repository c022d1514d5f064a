"""The audit trail: append-only, hash-chained events of every read and write of personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String, Text, Uuid, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base


class AuditEvent(Base):
    """One event; `hash = sha256(prev_hash || canonical event)`, so any edit breaks the chain.

    Range-partitioned by month of `occurred_at` (migration 0006, partitions in the schema
    `registry_partitions`); the primary key includes the partition key, as PostgreSQL requires.
    The chain is still read in `id` order (the sequence), across partitions.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_person_ids", "person_ids", postgresql_using="gin"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(200), index=True)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    person_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    record_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    purpose: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditManifest(Base):
    """The persons a bulk answer carried, for the one event that recorded it (append-only).

    An event whose answer names more persons than an event row should hold (a links export,
    a long audit listing) keeps them here in sorted chunks; the event's `detail.manifest`
    holds their count and sha256, so the chain binds the manifest. "Who accessed" reads both.
    """

    __tablename__ = "audit_manifest"
    __table_args__ = (
        Index(
            "ix_audit_manifest_person_ids",
            "person_ids",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The event's partition key, so a lookup of the event is pruned to its month.
    event_occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))


class AuditAnchor(Base):
    """A note that an anchor was kept outside the database: what it anchored, when, by whom.

    `registry audit anchor --out FILE` appends the signed anchor to its file and records it
    here (append-only, not in the chain: the chain's length is what anchors vouch for). The
    auditor's page shows the newest; the file and its key stay the proof.
    """

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_hash: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(BigInteger)
    anchored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
