"""The person as read: typed answers of registry.persons.service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.records.schemas import Episode, Link


@dataclass(frozen=True)
class ProgrammeRecord:
    """One programme's record of the person: its link and enrolment episodes."""

    programme: str
    source_id: str
    link: Link
    retracted: bool
    enrolments: list[Episode]


@dataclass(frozen=True)
class GoldenRecord:
    """The person as the registry holds it (the golden record)."""

    person_id: str
    status: str
    merged_into: str | None
    given_name: str | None
    family_name: str | None
    birth_date: date | None
    sex: str | None
    region: str | None
    municipality: str | None
    mother_name: str | None


@dataclass(frozen=True)
class PersonView(GoldenRecord):
    """A person's golden record and every programme's records of them, current and past."""

    programmes: list[ProgrammeRecord]
