"""Region scope of person-level access: outside your regions is the same as not existing.

One rule for every person-level route: a live person is in scope when one of their source
records is in one of the caller's regions (national callers: every person); a merged person
is in scope when the live person it was merged into (followed to the end) is. Reads accept
both; identity changes and rectification act on live persons only.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import NotFound

#: Merges chain (a survivor may be merged later); no real chain is near this long.
_MAX_CHAIN = 64


def scope_params(principal: Principal) -> dict[str, Any]:
    """The bind parameters of in_scope_sql: :all and :regions."""
    return {"all": principal.all_regions, "regions": sorted(principal.regions)}


def in_scope_sql(person: str) -> str:
    """SQL condition: the person (an SQL expression for its id) has a record in the regions.

    A scalar subquery, not EXISTS: the planner runs it as one index probe per person, where
    it turns an EXISTS over many rows (the review queue) into a hash of the whole table.
    """
    return (
        f"(:all OR (SELECT true FROM source_record scope_r WHERE scope_r.person_id = {person} "
        "AND scope_r.region = ANY(:regions) LIMIT 1) IS NOT NULL)"
    )


_VISIBLE = f"""
WITH RECURSIVE chain AS (
    SELECT p.id, p.status, p.merged_into, 0 AS depth FROM person p WHERE p.id = :id
    UNION ALL
    SELECT p.id, p.status, p.merged_into, c.depth + 1 FROM person p
    JOIN chain c ON p.id = c.merged_into WHERE c.depth < {_MAX_CHAIN}
)
SELECT 1 FROM chain c
WHERE c.status = 'active' AND {in_scope_sql("c.id")}
"""

_LIVE = (
    f"SELECT 1 FROM person p WHERE p.id = :id AND p.status = 'active' AND {in_scope_sql('p.id')}"
)


def visible_person(session: Session, principal: Principal, person_id: str) -> uuid.UUID:
    """The person's id if it is in the caller's scope, live or merged (for reads); or 404."""
    key = parse_person_id(person_id)
    if session.execute(text(_VISIBLE), {"id": key, **scope_params(principal)}).first() is None:
        raise NotFound("no such person")
    return key


def person_in_scope(session: Session, principal: Principal, person_id: str) -> uuid.UUID:
    """The person's id if it is live and in the caller's scope (to change it); or 404."""
    key = parse_person_id(person_id)
    found = session.execute(text(_LIVE), {"id": key, **scope_params(principal)}).first()
    if found is None:
        raise NotFound("no such person")
    return key


def parse_person_id(person_id: str) -> uuid.UUID:
    """A person id as sent by a caller; anything that is not one is simply not found."""
    try:
        return uuid.UUID(str(person_id))
    except ValueError as exc:
        raise NotFound("no such person") from exc
