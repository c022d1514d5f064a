"""Survivorship: each golden-record field from the most trusted, most recent record that has it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.records.fields import GOLDEN_FIELDS, by_name

#: The person fields a source record carries, matched on and kept on the golden record.
PERSON_FIELDS = GOLDEN_FIELDS

#: A rectification is kept as text; cast back to the field's column type (text unless said).
_CASTS = {f: by_name(f).sql_type for f in GOLDEN_FIELDS if by_name(f).sql_type != "text"}


def _pick(field: str) -> str:
    """A steward's latest rectification of the field, else the surviving source value."""
    rectified = (
        f"(SELECT x.new_value FROM person_rectification x WHERE x.person_id = r.person_id "
        f"AND x.field = '{field}' ORDER BY x.id DESC LIMIT 1)"
    )
    cast = _CASTS.get(field, "text")
    source = (
        f"(array_agg(r.{field} ORDER BY g.trust_rank DESC, r.updated_at DESC, r.id DESC)"
        f" FILTER (WHERE r.{field} IS NOT NULL))[1]"
    )
    return f"COALESCE(CAST({rectified} AS {cast}), {source}) AS {field}"


_PICK = ",\n    ".join(_pick(f) for f in PERSON_FIELDS)
_SET = ", ".join(f"{f} = b.{f}" for f in PERSON_FIELDS)


def refresh_sql(persons: str) -> str:
    """UPDATE of the golden records of the persons selected by a (fixed, trusted) SQL fragment.

    Rules, per field: a steward's latest rectification wins; otherwise the most trusted
    programme (trust_rank) first, then the most recently updated record, skipping records where
    the field is missing (most complete wins over empty).
    """
    return f"""
UPDATE person p SET {_SET}, updated_at = now()
FROM (
    SELECT r.person_id,
    {_PICK}
    FROM source_record r JOIN programme g ON g.id = r.programme_id
    WHERE r.person_id IN ({persons}) AND NOT r.retracted
    GROUP BY r.person_id
) b
WHERE p.id = b.person_id
"""


def refresh_golden_records(session: Session, person_ids: list[str]) -> None:
    """Recompute the golden records of these persons from their source records."""
    if person_ids:
        session.execute(
            text(refresh_sql("SELECT unnest(CAST(:ids AS uuid[]))")), {"ids": person_ids}
        )
