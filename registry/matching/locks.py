"""The identity lock: which person holds which record and national ID changes under it.

Ingest takes it shared for its whole transaction (registry.ingest.queries.STAGING), from
before it reads existing links and national ID claims until it commits: batches of any
programme run side by side. Identity changes made from outside a feed (a steward's review
decision, merge, split, and `registry linkage relink --apply` from its snapshot to its
commit) take it exclusively, so they never interleave with a batch that resolved records
against persons they are moving. Its own key: ingest's probabilistic lock
(registry.linkage) is exclusive already, and a shared lock upgraded to an exclusive one by two
batches at once would deadlock them.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session

IDENTITY_LOCK_SPACE = zlib.crc32(b"registry.identity") & 0x7FFFFFFF
IDENTITY_LOCK_KEY = 0

#: The shared form, for ingest (a fixed statement: the key is a constant).
LOCK_IDENTITIES_SHARED = (
    f"SELECT pg_advisory_xact_lock_shared({IDENTITY_LOCK_SPACE}, {IDENTITY_LOCK_KEY})"
)


def lock_identities(session: Session) -> None:
    """Wait until no batch is resolving records, then hold identities until the commit."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, :key)"),
        {"space": IDENTITY_LOCK_SPACE, "key": IDENTITY_LOCK_KEY},
    )
