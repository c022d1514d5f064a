"""Overview tables: per-batch active counts, and the person summary behind fast overviews.

The summary holds, per resolved person, the elementary date segments of their current
episodes: in `overview_spell` one row per segment and (programme, region) active in it, in
`overview_combination` one row per segment with the set of programmes active in it. Triggers
(migration 0005) mark every person whose episodes or merge change in `overview_dirty`;
`registry.overview.summary.refresh_summary` recomputes them. Queries use the summary only in a
statement that also sees an empty dirty set, so answers are exact; otherwise they fall back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base
from registry.persons.models import Person


class BatchActiveCount(Base):
    """A programme's active persons and enrolments right after one feed batch was applied."""

    __tablename__ = "batch_active_count"
    __table_args__ = (Index("ix_batch_active_count_programme", "programme_id", "feed_batch_id"),)

    feed_batch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("feed_batch.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    active_persons: Mapped[int] = mapped_column(Integer)
    active_enrolments: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OverviewDirty(Base):
    """A person whose summary rows may be stale: appended by triggers, drained by a refresh.

    Append-only with its own id (no unique person), so writers never wait on each other or on
    a refresh, and a change committed while a refresh runs leaves its own mark behind.
    """

    __tablename__ = "overview_dirty"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class OverviewSpell(Base):
    """A resolved person's date segment in one (programme, region), with its episode count."""

    __tablename__ = "overview_spell"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    enrolments: Mapped[int] = mapped_column(Integer)


class OverviewCombination(Base):
    """A resolved person's date segment and the set of programmes active in it."""

    __tablename__ = "overview_combination"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    programme_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer))


class OverviewBeside(Base):
    """A resolved person's date segment in which they are suspended or pending, not receiving,
    in one cell or margin of coverage by programme and region.

    `level` is GROUPING(programme, region): 0 a (programme, region) cell, 1 a programme, 2 a
    region, 3 the total (the summed dimension is null). `status` is the first of suspended,
    pending the person's episodes there have.
    """

    __tablename__ = "overview_beside"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    programme_id: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))


#: Persons merged into a survivor, found without scanning `person` (the summary's refresh).
PERSON_MERGED_INTO = Index(
    "ix_overview_person_merged_into",
    Person.merged_into,
    postgresql_where=text("merged_into IS NOT NULL"),
)


class OverviewMoneyPerson(Base):
    """A resolved person's money events: their receiving episodes' starts and ends with an
    amount, summed per cell, kind and month (read by person id at refresh, never scanned).

    `kind` 0 is a start (`month` the start's month), 1 an end (`month` the month of the day
    after the end; `first_day` when that day is a month's first). `per` is the amount's
    period, 'none' for an amount without one (counted, not summed). `amount` sums the
    amounts, `day_amount` amount x (day of month - 1), `doy_amount` amount x (day of year - 1).
    """

    __tablename__ = "overview_money_person"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    benefit_code: Mapped[str | None] = mapped_column(String(32))
    per: Mapped[str] = mapped_column(String(8))
    kind: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[date] = mapped_column(Date)
    first_day: Mapped[bool] = mapped_column(Boolean)
    episodes: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    day_amount: Mapped[Decimal] = mapped_column(Numeric)
    doy_amount: Mapped[Decimal] = mapped_column(Numeric)


class OverviewMoneyCell(Base):
    """The money events of everyone per cell, kind and month (`OverviewMoneyPerson` summed):
    what the spending sweep groups by, kept by adding each refreshed person's new events and
    subtracting their old ones."""

    __tablename__ = "overview_money_cell"
    __table_args__ = (
        Index(
            "uq_overview_money_cell_key",
            "programme_id",
            "region",
            "benefit_code",
            "per",
            "kind",
            "month",
            "first_day",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    benefit_code: Mapped[str | None] = mapped_column(String(32))
    per: Mapped[str] = mapped_column(String(8))
    kind: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[date] = mapped_column(Date)
    first_day: Mapped[bool] = mapped_column(Boolean)
    episodes: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    day_amount: Mapped[Decimal] = mapped_column(Numeric)
    doy_amount: Mapped[Decimal] = mapped_column(Numeric)


class OverviewFlowPerson(Base):
    """A resolved person's receiving spells opened (`flow` 0, in the month of the opening
    episode's start) and closed (1, the closing episode's end) per cell and month."""

    __tablename__ = "overview_flow_person"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    benefit_code: Mapped[str | None] = mapped_column(String(32))
    flow: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[date] = mapped_column(Date)
    spells: Mapped[int] = mapped_column(Integer)


class OverviewFlowCell(Base):
    """Spells opened and closed per cell and month (`OverviewFlowPerson` summed), kept by the
    refresh as the money cells are."""

    __tablename__ = "overview_flow_cell"
    __table_args__ = (
        Index(
            "uq_overview_flow_cell_key",
            "programme_id",
            "region",
            "benefit_code",
            "flow",
            "month",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16))
    benefit_code: Mapped[str | None] = mapped_column(String(32))
    flow: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[date] = mapped_column(Date)
    spells: Mapped[int] = mapped_column(Integer)
