"""Moving source records between persons: the one write path for decisions, merges, splits."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.core.errors import Conflict
from registry.persons.golden import refresh_golden_records
from registry.persons.ids import new_person_id


def new_person(session: Session) -> uuid.UUID:
    """An empty active person (its golden record is filled from the records moved in)."""
    person_id = new_person_id()
    session.execute(text("INSERT INTO person (id) VALUES (:id)"), {"id": person_id})
    return person_id


def refuse_split_identifiers(session: Session, record_ids: list[int], person_id: uuid.UUID) -> None:
    """Refuse to separate records that carry the same national ID."""
    shared = session.execute(
        text(
            "SELECT 1 FROM source_record moved JOIN source_record stay "
            "ON stay.national_id_digest = moved.national_id_digest "
            "WHERE moved.id = ANY(:ids) AND stay.person_id = :person "
            "AND NOT stay.id = ANY(:ids) LIMIT 1"
        ),
        {"ids": record_ids, "person": person_id},
    ).first()
    if shared is not None:
        raise Conflict(
            "these records share a national ID with records that stay; move them all or none"
        )


def refuse_joining_identifiers(
    session: Session, record_ids: list[int], person_id: uuid.UUID
) -> None:
    """Refuse to bring a national ID to a person who holds another one (as merge refuses)."""
    other = session.execute(
        text(
            "SELECT 1 FROM source_record moved JOIN person_identifier held "
            "ON held.person_id = :person AND held.digest <> moved.national_id_digest "
            "WHERE moved.id = ANY(:ids) LIMIT 1"
        ),
        {"ids": record_ids, "person": person_id},
    ).first()
    if other is not None:
        raise Conflict(
            "the record carries a national ID and the person holds another; "
            "matching them would join two IDs"
        )


def move_records(
    session: Session, record_ids: list[int], to_person: uuid.UUID, *, method: str = "manual"
) -> list[uuid.UUID]:
    """Move records (episodes and national IDs with them); retire persons left empty."""
    previous = [
        row[0]
        for row in session.execute(
            text(
                "SELECT DISTINCT person_id FROM source_record WHERE id = ANY(:ids) "
                "AND person_id <> :to"
            ),
            {"ids": record_ids, "to": to_person},
        ).all()
    ]
    params = {"ids": record_ids, "to": to_person, "method": method}
    session.execute(
        text(
            "UPDATE source_record SET person_id = :to, link_method = :method, link_score = NULL, "
            "link_weights = NULL, link_model_id = NULL, updated_at = now() WHERE id = ANY(:ids)"
        ),
        params,
    )
    session.execute(
        text("UPDATE enrolment SET person_id = :to WHERE source_record_id = ANY(:ids)"), params
    )
    session.execute(
        text(
            "UPDATE person_identifier i SET person_id = :to FROM source_record r "
            "WHERE r.id = ANY(:ids) AND i.digest = r.national_id_digest"
        ),
        params,
    )
    refresh_golden_records(session, [str(p) for p in [*previous, to_person]])
    session.execute(
        text(
            "UPDATE person p SET status = 'merged', merged_into = :to, updated_at = now() "
            "WHERE p.id = ANY(:previous) AND p.status = 'active' "
            "AND NOT EXISTS (SELECT 1 FROM source_record r WHERE r.person_id = p.id)"
        ),
        {"to": to_person, "previous": previous},
    )
    return previous


def record_link_event(
    session: Session,
    kind: str,
    *,
    person_id: uuid.UUID,
    other_person_id: uuid.UUID | None,
    record_ids: list[int],
    actor: str,
    reason: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one identity change to the person's history."""
    session.execute(
        text(
            "INSERT INTO link_event (kind, person_id, other_person_id, source_record_ids, actor, "
            "reason, details) VALUES (:kind, :person, :other, :ids, :actor, :reason, "
            "CAST(:details AS jsonb))"
        ),
        {
            "kind": kind,
            "person": person_id,
            "other": other_person_id,
            "ids": record_ids,
            "actor": actor,
            "reason": reason,
            "details": json.dumps(details or {}),
        },
    )
