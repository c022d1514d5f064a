"""Region scope of person-level access: outside your regions is the same as not existing."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.errors import NotFound


def person_in_scope(session: Session, principal: Principal, person_id: str) -> uuid.UUID:
    """The person's id if it exists, is active and has a record in the caller's regions; or 404."""
    key = parse_person_id(person_id)
    found = session.execute(
        text(
            "SELECT 1 FROM person p WHERE p.id = :id AND p.status = 'active' AND "
            "(:all OR EXISTS (SELECT 1 FROM source_record r WHERE r.person_id = p.id "
            "AND r.region = ANY(:regions)))"
        ),
        {"id": key, "all": principal.all_regions, "regions": sorted(principal.regions)},
    ).first()
    if found is None:
        raise NotFound("no such person")
    return key


def parse_person_id(person_id: str) -> uuid.UUID:
    """A person id as sent by a caller; anything that is not one is simply not found."""
    try:
        return uuid.UUID(str(person_id))
    except ValueError as exc:
        raise NotFound("no such person") from exc
