"""The persons an answer or a decision touched, gathered for its audit event (ids only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Both sides of a settled review item: its record (and the person holding it now), the
#: candidate person, and the other person of the link event the decision wrote (the record's
#: holder before a match moved it).
_DECISION_SIDES = """
SELECT CAST(m.candidate_person_id AS text), CAST(r.person_id AS text), g.code, r.source_id,
       (SELECT CAST(e.other_person_id AS text) FROM link_event e
        WHERE e.person_id = CAST(:person AS uuid) AND e.details ->> 'review_id' = :review
        ORDER BY e.id DESC LIMIT 1)
FROM match_candidate m
JOIN source_record r ON r.id = m.source_record_id
JOIN programme g ON g.id = r.programme_id
WHERE m.id = CAST(:review AS bigint)
"""


@dataclass(frozen=True)
class Touched:
    """Person ids and record ids (`PROGRAMME:source_id`) for an audit event."""

    person_ids: list[str]
    record_ids: list[str]


def decision_sides(session: Session, review_id: int, person_id: str) -> Touched:
    """Both persons of a settled review item and its record; `person_id` is the decision's."""
    row = session.execute(
        text(_DECISION_SIDES), {"review": str(review_id), "person": person_id}
    ).one_or_none()
    if row is None:
        return Touched([person_id], [])
    candidate, holder, programme, source_id, other = row
    persons = [p for p in (person_id, candidate, holder, other) if p]
    return Touched(sorted(set(persons)), [f"{programme}:{source_id}"])


def exported_persons(chunks: Iterable[str]) -> Iterator[str]:
    """The person ids of a CSV export given as chunks of whole lines, its header first."""
    column: int | None = None
    for chunk in chunks:
        for row in csv.reader(io.StringIO(chunk)):
            if column is None:
                column = row.index("person_id")
            elif len(row) > column and row[column]:
                yield row[column]


_RECORD_PERSONS = """
SELECT DISTINCT CAST(r.person_id AS text)
FROM source_record r JOIN programme g ON g.id = r.programme_id
WHERE g.code = :programme AND r.source_id = ANY(:source_ids) AND r.person_id IS NOT NULL
"""


def quality_report_persons(session: Session, report: dict[str, Any]) -> list[str]:
    """The persons behind the source ids a quality report's error lists and findings show
    (one query)."""
    source_ids = {
        item["source_id"]
        for entry in report["errors"].values()
        for item in entry["items"]
        if item.get("source_id")
    } | {s for finding in report.get("findings", []) for s in finding["source_ids"] or []}
    return record_persons(session, report["programme"], source_ids)


def record_persons(session: Session, programme: str, source_ids: Iterable[str | None]) -> list[str]:
    """The persons holding a programme's records of these source ids (one query)."""
    wanted = sorted({s for s in source_ids if s})
    if not wanted:
        return []
    rows = session.execute(text(_RECORD_PERSONS), {"programme": programme, "source_ids": wanted})
    return sorted(rows.scalars())
