"""Which audit events name a person: in their own `person_ids`, or through a manifest."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, DateTime, column, select, text, tuple_

from registry.audit.models import AuditEvent

#: (id, occurred_at) of every event naming :person (inline) or :person_key (in a manifest).
NAMING_EVENTS = """
SELECT id, occurred_at FROM audit_event WHERE person_ids @> ARRAY[CAST(:person AS text)]
UNION ALL
SELECT event_id, event_occurred_at FROM audit_manifest
WHERE person_ids @> ARRAY[CAST(:person_key AS uuid)]
"""


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def person_key(person_id: str) -> str | None:
    """The person id as a manifest holds it (canonical UUID text), or None if it is none."""
    if _CANONICAL.fullmatch(person_id):  # as the registry writes them: the fast path
        return person_id
    try:
        return str(uuid.UUID(person_id))
    except (ValueError, AttributeError, TypeError):
        return None


def naming_params(person_id: str) -> dict[str, Any]:
    """The bind parameters of NAMING_EVENTS for one person."""
    return {"person": person_id, "person_key": person_key(person_id)}


def names_person(person_id: str) -> ColumnElement[bool]:
    """A WHERE clause on AuditEvent: the event names the person, inline or in its manifest."""
    naming = (
        text(NAMING_EVENTS)
        .bindparams(**naming_params(person_id))
        .columns(column("id", BigInteger), column("occurred_at", DateTime(timezone=True)))
        .subquery("naming")
    )
    return tuple_(AuditEvent.id, AuditEvent.occurred_at).in_(
        select(naming.c.id, naming.c.occurred_at)
    )
