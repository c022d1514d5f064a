"""Person (the registry's own identity) and the identifiers that resolve to it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'merged')", name="status"),
        CheckConstraint("(status = 'merged') = (merged_into IS NOT NULL)", name="merged_into"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("person.id"))
    given_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    region: Mapped[str | None] = mapped_column(String(16), index=True)
    municipality: Mapped[str | None] = mapped_column(String(16))
    mother_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PersonIdentifier(Base):
    """A keyed digest of a national ID, unique, pointing at the one person who holds it."""

    __tablename__ = "person_identifier"

    scheme: Mapped[str] = mapped_column(String(16), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("person.id", deferrable=True, initially="DEFERRED"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
