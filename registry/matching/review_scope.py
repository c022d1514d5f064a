"""Which review items a steward may see and decide: those whose every person is in scope.

An item shows the person holding the record (record side), the candidate person, and the
person now holding the candidate record. Each must be a live person with a record in the
caller's regions (registry.persons.scope's rule); otherwise the item is absent for that
caller, in the queue, its summary and its decision alike. National callers see every item.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.persons.scope import in_scope_sql, scope_params

#: The joins an item's condition reads: m (match_candidate), r (its record), c (candidate record).
ITEM_JOINS = """
JOIN source_record r ON r.id = m.source_record_id
LEFT JOIN source_record c ON c.id = m.candidate_record_id
"""


def _live_in_scope(person: str) -> str:
    """The person is live and in scope: index probes per item (see in_scope_sql)."""
    live = f"(SELECT scope_p.status FROM person scope_p WHERE scope_p.id = {person}) = 'active'"
    return f"{live} AND {in_scope_sql(person)}"


#: SQL condition over ITEM_JOINS: every person the item shows is within the caller's scope.
VISIBLE_ITEM = f"""(:all OR (
    {_live_in_scope("r.person_id")}
    AND {_live_in_scope("m.candidate_person_id")}
    AND (c.id IS NULL OR {_live_in_scope("c.person_id")})
))"""

_PENDING_BY_REASON = f"""
SELECT m.reason, count(*) AS pending, min(m.created_at) AS oldest
FROM match_candidate m {ITEM_JOINS}
WHERE m.status = 'pending' AND (:whole OR {VISIBLE_ITEM})
GROUP BY m.reason ORDER BY m.reason
"""


def pending_by_reason(
    session: Session, principal: Principal, *, whole_queue: bool = False
) -> list[tuple[str, int, datetime]]:
    """Pending items the caller may see, per reason: (reason, count, oldest created_at).

    whole_queue: count every item (an aggregate without persons, for oversight).
    """
    rows = session.execute(
        text(_PENDING_BY_REASON), {"whole": whole_queue, **scope_params(principal)}
    ).all()
    return [(str(r.reason), int(r.pending), r.oldest) for r in rows]
