"""Reading the review queue: items filtered by reason, programme and age; one item to work.

Every read goes through review_scope's rule (an item is visible only when every person it
shows is in the caller's scope), so the queue, an item and its "next" never disagree.
"""

from __future__ import annotations

from typing import Any, get_args

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import InvalidInput, NotFound
from registry.matching.review_scope import ITEM_JOINS, VISIBLE_ITEM
from registry.matching.schemas import (
    FieldComparison,
    OtherRecord,
    ReviewCandidate,
    ReviewFilter,
    ReviewItem,
    ReviewPage,
    ReviewReason,
    ReviewRecord,
    ReviewStatus,
    ReviewView,
)
from registry.persons.golden import PERSON_FIELDS
from registry.persons.scope import scope_params
from registry.programmes.codes import check_programme_code

STEWARD = "steward"
_STATUSES: tuple[str, ...] = get_args(ReviewStatus)
REVIEW_REASONS: tuple[str, ...] = get_args(ReviewReason)
#: The oldest age filter: ten years.
MAX_AGE_DAYS = 3650
#: At most this many other records of each person are shown with an item.
OTHER_RECORDS_LIMIT = 50

_RECORD = ", ".join(f"r.{f} AS r_{f}" for f in PERSON_FIELDS)
_CANDIDATE = ", ".join(f"c.{f} AS c_{f}" for f in PERSON_FIELDS)
_ITEM_COLUMNS = f"""
SELECT m.id, m.status, m.reason, m.score, m.weights, m.created_at, m.decided_by, m.decided_at,
       m.note, m.candidate_person_id::text AS candidate_person_id,
       m.source_record_id, m.candidate_record_id,
       g.code AS programme, r.source_id, r.person_id::text AS person_id, {_RECORD},
       cg.code AS c_programme, c.source_id AS c_source_id, {_CANDIDATE}
FROM match_candidate m {ITEM_JOINS}
JOIN programme g ON g.id = r.programme_id
LEFT JOIN programme cg ON cg.id = c.programme_id
"""
#: The filters of a ReviewFilter, over the columns above.
_FILTERED = f"""m.status = :status AND {VISIBLE_ITEM}
  AND (CAST(:reason AS text) IS NULL OR m.reason = :reason)
  AND (CAST(:programme AS text) IS NULL OR g.code = :programme OR cg.code = :programme)
  AND m.created_at <= now() - make_interval(days => :min_age_days)"""

_REVIEWS = f"""{_ITEM_COLUMNS}
WHERE {_FILTERED} AND m.id > :after
ORDER BY m.id
LIMIT :limit
"""

_ITEM = f"""{_ITEM_COLUMNS}
WHERE m.id = :id AND {VISIBLE_ITEM}
"""

#: The next item of the same filtered queue after this one, wrapping round to the first.
_NEXT = f"""
SELECT m.id FROM match_candidate m {ITEM_JOINS}
JOIN programme g ON g.id = r.programme_id
LEFT JOIN programme cg ON cg.id = c.programme_id
WHERE {_FILTERED} AND m.id <> :id
ORDER BY m.id < :id, m.id
LIMIT 1
"""

_OTHER_RECORDS = """
SELECT g.code AS programme, r.source_id, r.given_name, r.family_name, r.birth_date, r.region,
       r.retracted
FROM source_record r JOIN programme g ON g.id = r.programme_id
WHERE r.person_id = CAST(:person AS uuid) AND NOT r.id = ANY(:shown)
ORDER BY g.code, r.source_id
LIMIT :limit
"""


def check_filter(filters: ReviewFilter) -> ReviewFilter:
    """The filter itself when every part follows its rule; InvalidInput naming the field."""
    if filters.status not in _STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(_STATUSES)}")
    if filters.reason is not None and filters.reason not in REVIEW_REASONS:
        raise InvalidInput(f"reason must be one of: {', '.join(REVIEW_REASONS)}")
    if filters.programme is not None:
        check_programme_code(filters.programme, "programme")
    if not 0 <= filters.min_age_days <= MAX_AGE_DAYS:
        raise InvalidInput(f"min_age_days must be between 0 and {MAX_AGE_DAYS}")
    return filters


def _filter_params(principal: Principal, filters: ReviewFilter) -> dict[str, Any]:
    check_filter(filters)
    return {
        "status": filters.status,
        "reason": filters.reason,
        "programme": filters.programme,
        "min_age_days": filters.min_age_days,
        **scope_params(principal),
    }


def list_reviews(
    session: Session,
    principal: Principal,
    filters: ReviewFilter = ReviewFilter(),
    *,
    limit: int = 50,
    after: int = 0,
) -> ReviewPage:
    """Review items in the steward's scope, oldest first, with a field-by-field comparison."""
    principal.require(STEWARD)
    params = {**_filter_params(principal, filters), "after": after, "limit": limit}
    rows = session.execute(text(_REVIEWS), params).mappings().all()
    items = [_review_view(row) for row in rows]
    return ReviewPage(items, str(items[-1].id) if len(items) == limit else None)


def review_item(
    session: Session, principal: Principal, review_id: int, filters: ReviewFilter = ReviewFilter()
) -> ReviewItem:
    """One item in the steward's scope, each person's other records, and the queue's next item."""
    principal.require(STEWARD)
    params = _filter_params(principal, filters)
    row = session.execute(text(_ITEM), {"id": review_id, **params}).mappings().first()
    if row is None:
        raise NotFound("no such review item")
    shown = [int(row["source_record_id"])]
    if row["candidate_record_id"] is not None:
        shown.append(int(row["candidate_record_id"]))
    return ReviewItem(
        item=_review_view(row),
        record_person_records=_other_records(session, row["person_id"], shown),
        candidate_person_records=_other_records(session, row["candidate_person_id"], shown),
        next_id=_next_id(session, review_id, params),
    )


def next_review_id(
    session: Session, principal: Principal, review_id: int, filters: ReviewFilter = ReviewFilter()
) -> int | None:
    """The filtered queue's next visible item after this one (wrapping round), if any."""
    principal.require(STEWARD)
    return _next_id(session, review_id, _filter_params(principal, filters))


def _next_id(session: Session, review_id: int, params: dict[str, Any]) -> int | None:
    found = session.execute(text(_NEXT), {"id": review_id, **params}).scalar()
    return None if found is None else int(found)


def _other_records(session: Session, person: str, shown: list[int]) -> list[OtherRecord]:
    rows = session.execute(
        text(_OTHER_RECORDS), {"person": person, "shown": shown, "limit": OTHER_RECORDS_LIMIT}
    ).mappings()
    return [OtherRecord(**{**row, "birth_date": _plain(row["birth_date"])}) for row in rows]


def _review_view(row: Any) -> ReviewView:
    explanation = row["weights"] or {}
    fields = explanation.get("fields", {})
    comparison = [
        FieldComparison(
            field=f,
            record=_plain(row[f"r_{f}"]),
            candidate=_plain(row[f"c_{f}"]),
            level=fields.get(f, {}).get("level"),
            weight=fields.get(f, {}).get("weight"),
        )
        for f in PERSON_FIELDS
    ]
    return ReviewView(
        id=row["id"],
        status=row["status"],
        reason=row["reason"],
        score=round(float(row["score"]), 3),
        probability=explanation.get("probability"),
        veto=explanation.get("veto"),
        record=ReviewRecord(row["programme"], row["source_id"], row["person_id"]),
        candidate=ReviewCandidate(
            row["candidate_person_id"], row["c_programme"], row["c_source_id"]
        ),
        comparison=comparison,
        created_at=row["created_at"].isoformat(),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"].isoformat() if row["decided_at"] else None,
        note=row["note"],
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def persons_shown(items: list[ReviewView]) -> list[str]:
    """The persons a list of items shows (both sides of each), for the audit event."""
    return [side.person_id for item in items for side in (item.record, item.candidate)]


def records_shown(items: list[ReviewView]) -> list[str]:
    """The records (`PROGRAMME:source_id`) a list of items shows, for the audit event."""
    return [
        f"{side.programme}:{side.source_id}"
        for item in items
        for side in (item.record, item.candidate)
        if side.source_id
    ]


def item_records(found: ReviewItem) -> list[str]:
    """The records one item's page shows: the pair and each person's other records."""
    others = [*found.record_person_records, *found.candidate_person_records]
    return [*records_shown([found.item]), *(f"{r.programme}:{r.source_id}" for r in others)]
