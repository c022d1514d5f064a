"""The tables of declared system switches: one row per switch, one per re-keyed record."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base


class SystemSwitch(Base):
    """A programme's move to a new MIS: when, who declared it, what it re-keyed (append-only)."""

    __tablename__ = "system_switch"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    switch_date: Mapped[date] = mapped_column(Date)
    declared_by: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    #: How the map came: "json" (the API's body) or "csv" (a file, API or CLI).
    channel: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(Text)
    #: The map's rows, and the records re-keyed (equal: a switch is all-or-nothing).
    rows: Mapped[int] = mapped_column(Integer)
    rekeyed: Mapped[int] = mapped_column(Integer)


class SystemSwitchKey(Base):
    """One record a switch re-keyed: its old and new source id (append-only)."""

    __tablename__ = "system_switch_key"

    switch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("system_switch.id"), primary_key=True
    )
    old_source_id: Mapped[str] = mapped_column(Text, primary_key=True)
    new_source_id: Mapped[str] = mapped_column(Text)
    #: source_record.id (no foreign key: the record table is distributed, this one is not).
    source_record_id: Mapped[int] = mapped_column(BigInteger)
