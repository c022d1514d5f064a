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


@dataclass(frozen=True)
class FieldExplanation:
    """How one field of the search compared with the person's record: level and weight."""

    field: str
    level: str | None
    weight: float


@dataclass(frozen=True)
class PersonMatch:
    """One person found: the golden record's identifying fields and, for a name search, why.

    score: the linkage engine's match weight (log2 odds) of the person's best-matching source
    record; probability its posterior; explanation the per-field levels and weights. A match
    by national ID has none of them (it is exact).
    """

    person_id: str
    given_name: str | None
    family_name: str | None
    birth_date: date | None
    sex: str | None
    region: str | None
    municipality: str | None
    programmes: list[str]
    score: float | None
    probability: float | None
    explanation: list[FieldExplanation]


@dataclass(frozen=True)
class PersonSearchResult:
    """The persons a search found in the caller's scope, best first, at most `limit`."""

    by: str
    limit: int
    persons: list[PersonMatch]


@dataclass(frozen=True)
class FieldSource:
    """Where one golden-record field comes from: a steward's rectification or a source record."""

    field: str
    value: str | None
    source: str
    programme: str | None
    source_id: str | None
