"""Data-subject rights' answers: the subject access export and a rectification's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from registry.persons.schemas import GoldenRecord
from registry.records.schemas import HeldRecord


@dataclass(frozen=True)
class SubjectEnrolment:
    """An enrolment episode of the person, with the programme record it came from."""

    programme: str
    source_id: str
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
class Rectification:
    """One corrected golden-record field: old and new value, why, by whom, when."""

    id: int
    field: str
    old_value: str | None
    new_value: str | None
    reason: str
    actor: str
    rectified_at: datetime


@dataclass(frozen=True)
class AccessedBy:
    """One audit event that named the person."""

    occurred_at: datetime
    actor: str
    roles: list[str]
    action: str
    outcome: str
    purpose: str | None


@dataclass(frozen=True)
class SubjectAccess:
    """Everything held on a person, as one export."""

    generated_at: datetime
    person: GoldenRecord
    source_records: list[HeldRecord]
    enrolments: list[SubjectEnrolment]
    rectifications: list[Rectification]
    accessed_by: list[AccessedBy]


@dataclass(frozen=True)
class Rectified:
    """The outcome of a rectification: the person and the fields that changed."""

    person_id: str
    fields: list[str]
    record_ids: list[str]
