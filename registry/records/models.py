"""The record as held: source records, their versions and their enrolment episodes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base

LINK_METHODS = ("national_id", "probabilistic", "manual", "new")


class SourceRecord(Base):
    """The MIS's record of a person as last received, and its link to a person."""

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("programme_id", "source_id"),
        CheckConstraint(
            "link_method IN ('national_id', 'probabilistic', 'manual', 'new')", name="link_method"
        ),
        # the few retracted records, excluded by id by the money answers (migration 0017)
        Index("ix_source_record_retracted", "id", postgresql_where=text("retracted")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    source_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    link_method: Mapped[str] = mapped_column(String(16))
    link_score: Mapped[float | None] = mapped_column(Float)
    link_weights: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    link_model_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_model.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    payload_hash: Mapped[bytes] = mapped_column(LargeBinary)
    national_id_digest: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_masked: Mapped[str | None] = mapped_column(String(32))
    given_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    region: Mapped[str | None] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(16))
    mother_name: Mapped[str | None] = mapped_column(Text)
    retracted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SourceRecordVersion(Base):
    """Every received version of a source record (append-only); the raw ID is never kept.

    Range-partitioned by month of `received_at` (migration 0006). PostgreSQL refuses a unique
    constraint without the partition key, so (source_record_id, version) is a plain index; it
    stays unique because ingest, the only writer, takes the version from the record row it
    updates in the same statement (row lock under the programme's advisory lock).
    """

    __tablename__ = "source_record_version"
    __table_args__ = (
        Index("ix_source_record_version_record", "source_record_id", "version"),
        {"postgresql_partition_by": "RANGE (received_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    #: No foreign key (migration 0006): on Citus versions and records are not co-located.
    source_record_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    feed_batch_id: Mapped[int] = mapped_column(ForeignKey("feed_batch.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    payload_hash: Mapped[bytes] = mapped_column(LargeBinary)
    retracted: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=func.now()
    )


class Enrolment(Base):
    """A benefit episode with valid time (start/end) and system time (recorded/superseded)."""

    __tablename__ = "enrolment"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint(
            "amount_period IS NULL OR amount_period IN ('month', 'year', 'payment')",
            name="amount_period",
        ),
        Index(
            "ix_enrolment_current_source",
            "source_record_id",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index("ix_enrolment_programme_dates", "programme_id", "start_date", "end_date"),
        # every episode of a record, past ones too (record and person reads; migration 0006)
        Index("ix_enrolment_source_record_id", "source_record_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"))
    source_version: Mapped[int] = mapped_column(Integer)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    benefit_code: Mapped[str] = mapped_column(String(32))
    target_group: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    amount_period: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
