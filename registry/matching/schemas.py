"""The answers of the stewards' identity work: review queue, decisions, merge, split, history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Why an item was queued (linkage.assignment), and 'split' for a steward's split.
ReviewReason = Literal["uncertain", "national_id_conflict", "batch_conflict", "split"]
#: Where an item stands: waiting, decided either way, or overtaken by another decision.
ReviewStatus = Literal["pending", "match", "non_match", "superseded"]

#: A link event's details: flat JSON (today {} or {"review_id": n}).
Details = dict[str, int | float | str | bool | None]


@dataclass(frozen=True)
class ReviewRecord:
    """The reviewed source record: where it came from and the person holding it."""

    programme: str
    source_id: str
    person_id: str


@dataclass(frozen=True)
class ReviewCandidate:
    """The person the record may belong to, and the record that made it a candidate."""

    person_id: str
    programme: str | None
    source_id: str | None


@dataclass(frozen=True)
class FieldComparison:
    """One person field of both sides, with its agreement level and weight when scored."""

    field: str
    record: str | None
    candidate: str | None
    level: str | None
    weight: float | None


@dataclass(frozen=True)
class ReviewView:
    """A review item as stewards see it: score, reasons and a field-by-field comparison."""

    id: int
    status: str
    reason: str
    score: float
    probability: float | None
    veto: str | None
    record: ReviewRecord
    candidate: ReviewCandidate
    comparison: list[FieldComparison]
    created_at: str
    decided_by: str | None
    decided_at: str | None
    note: str | None


@dataclass(frozen=True)
class ReviewPage:
    """A page of review items, oldest first; next_cursor is set when more may follow."""

    items: list[ReviewView]
    next_cursor: str | None


@dataclass(frozen=True)
class ReviewFilter:
    """Which items of the queue: by reason, by either side's programme, by minimum age."""

    status: ReviewStatus = "pending"
    reason: ReviewReason | None = None
    programme: str | None = None
    min_age_days: int = 0


@dataclass(frozen=True)
class OtherRecord:
    """Another source record of a person shown by a review item (not one of the pair)."""

    programme: str
    source_id: str
    given_name: str | None
    family_name: str | None
    birth_date: str | None
    region: str | None
    retracted: bool


@dataclass(frozen=True)
class ReviewItem:
    """One review item to work: the pair, each person's other records, the next item's id."""

    item: ReviewView
    record_person_records: list[OtherRecord]
    candidate_person_records: list[OtherRecord]
    next_id: int | None


@dataclass(frozen=True)
class ReviewDecision:
    """A settled review item and the person the record now belongs to."""

    id: int
    status: str
    person_id: str


@dataclass(frozen=True)
class MergeResult:
    """A merge: the surviving person, the merged one, and how many records moved."""

    person_id: str
    merged: str
    records_moved: int


@dataclass(frozen=True)
class SplitResult:
    """A split: the person split, the new person, and how many records moved to it."""

    person_id: str
    new_person_id: str
    moved: int


@dataclass(frozen=True)
class LinkEventView:
    """One link event (merge, split, match, non_match, relink, rectify) of a person."""

    id: int
    kind: str
    person_id: str
    other_person_id: str | None
    source_record_ids: list[int]
    actor: str
    #: The user's name behind `actor` (None for a feed client or a removed user).
    actor_name: str | None
    reason: str | None
    details: Details
    occurred_at: str
    #: The review item's score, for a review decision (match / non_match).
    score: float | None


@dataclass(frozen=True)
class RecordVersionView:
    """One received version of one of the person's source records."""

    programme: str
    source_id: str
    version: int
    retracted: bool
    received_at: str
    batch_id: str


@dataclass(frozen=True)
class PersonHistory:
    """A person's status, link events and record versions, newest first."""

    person_id: str
    status: str
    merged_into: str | None
    events: list[LinkEventView]
    versions: list[RecordVersionView]
