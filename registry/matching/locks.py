"""The identity lock taken exclusively: identity changes made from outside a feed.

A steward's review decision, merge and split, and `registry linkage relink --apply` (from its
snapshot to its commit) never interleave with a batch that resolved records against persons
they are moving; ingest holds the same lock shared (registry.core.locks).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from registry.core.locks import LockSpace, hold


def lock_identities(session: Session) -> None:
    """Wait until no batch is resolving records, then hold identities until the commit."""
    hold(session, LockSpace.IDENTITY)
