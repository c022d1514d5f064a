"""Where each golden-record field comes from: a steward's rectification or a source record.

The same rules as the golden record's survivorship (registry.persons.golden): a steward's
latest rectification wins; otherwise the most trusted programme's record (trust_rank), then
the most recently updated, then the newest, among live records that have the field.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.persons.golden import PERSON_FIELDS
from registry.persons.schemas import FieldSource
from registry.persons.scope import visible_person

_RECORDS = f"""
SELECT g.code AS programme, r.source_id, {", ".join("r." + f for f in PERSON_FIELDS)}
FROM source_record r JOIN programme g ON g.id = r.programme_id
WHERE r.person_id = :p AND NOT r.retracted
ORDER BY g.trust_rank DESC, r.updated_at DESC, r.id DESC
"""
_RECTIFIED = """
SELECT DISTINCT ON (field) field, new_value FROM person_rectification
WHERE person_id = :p ORDER BY field, id DESC
"""


def golden_sources(session: Session, principal: Principal, person_id: str) -> list[FieldSource]:
    """Each golden-record field with its value and where it comes from (in survivorship order)."""
    key = visible_person(session, principal, person_id)
    records = session.execute(text(_RECORDS), {"p": key}).mappings().all()
    rectified: dict[str, str | None] = dict(
        session.execute(text(_RECTIFIED), {"p": key}).tuples().all()
    )
    sources: list[FieldSource] = []
    for field in PERSON_FIELDS:
        if field in rectified:
            sources.append(FieldSource(field, rectified[field], "rectification", None, None))
            continue
        winner = next((r for r in records if r[field] is not None), None)
        if winner is None:
            sources.append(FieldSource(field, None, "none", None, None))
        else:
            value = winner[field]
            sources.append(
                FieldSource(
                    field,
                    value.isoformat() if hasattr(value, "isoformat") else str(value),
                    "record",
                    winner["programme"],
                    winner["source_id"],
                )
            )
    return sources
