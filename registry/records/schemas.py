"""The record as read: typed answers of registry.records.reads (and the person read's parts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Link:
    """How a source record is linked to its person: the method and, if scored, the score."""

    method: str | None
    score: float | None


@dataclass(frozen=True)
class Episode:
    """One enrolment episode with its valid time and system time."""

    benefit_code: str
    target_group: str | None
    status: str | None
    start_date: date
    end_date: date | None
    amount: float | None
    region: str | None
    source_version: int
    recorded_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True)
class RecordVersion:
    """One received version of a source record, as stored (the raw national ID never is)."""

    version: int
    received_at: datetime
    retracted: bool
    payload: dict[str, Any]


@dataclass(frozen=True)
class HeldRecord:
    """A source record as held: its current fields, link, versions and enrolment episodes.

    person_id is the linked person's id as text (every source record has one).
    """

    programme: str
    source_id: str
    person_id: str
    link: Link
    version: int
    retracted: bool
    national_id: str | None
    given_name: str | None
    family_name: str | None
    birth_date: date | None
    sex: str | None
    region: str | None
    municipality: str | None
    mother_name: str | None
    updated_at: datetime
    versions: list[RecordVersion]
    enrolments: list[Episode]
