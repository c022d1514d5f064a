"""Oversized blocks: the keys the candidate search skips unread (blocking_key_oversized)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Each named key's block counted again, up to the size it was named with: a block that
#: shrank (retractions, changed names) gets its smaller size, so a limit above it reads it
#: again; one that grew keeps its size (still above). An index-only count per key.
_REMEASURE = """
WITH counted AS (
    SELECT o.key, (SELECT count(*) FROM (SELECT 1 FROM blocking_key b WHERE b.key = o.key
                                          LIMIT o.size) x) AS size
    FROM blocking_key_oversized o
)
UPDATE blocking_key_oversized o SET size = c.size, noted_at = now()
FROM counted c WHERE c.key = o.key AND c.size < o.size
RETURNING o.key
"""


def remeasure_oversized_blocks(session: Session) -> int:
    """Count every named oversized block again (relink --apply runs it); how many shrank."""
    return len(session.execute(text(_REMEASURE)).all())
