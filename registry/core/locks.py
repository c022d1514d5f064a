"""Every PostgreSQL advisory lock the registry takes, by name: one place for their keys.

A lock is a pair (space, key): the space names what it guards, the key narrows it (a
programme's id, or 0 for the whole space). All are transaction-scoped: released at commit or
rollback, so a crash never leaves one held.

* `INGEST`: one programme's batches one at a time (key: programme id).
* `LINKAGE`: the probabilistic step of ingest, one batch at a time (key 0).
* `IDENTITY`: who holds which record and national ID (key 0); ingest takes it shared for
  its whole transaction, identity changes made outside a feed (review decisions, merge,
  split, `registry linkage relink --apply`) exclusively. Its own space: `LINKAGE` is
  exclusive already, and a shared lock upgraded to exclusive by two batches at once would
  deadlock them.
* `AUDIT`: appending to the hash chain, one event at a time (key 0).
* `SUMMARY_REFRESH`: one refresh of the overview's summary at a time (key 0; tried, never
  waited for).
"""

from __future__ import annotations

import enum
import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def _space(name: str) -> int:
    """A stable int4 for a lock space's name."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


class LockSpace(enum.IntEnum):
    """The named lock spaces (the first half of every advisory lock's pair)."""

    INGEST = _space("registry.ingest")
    LINKAGE = _space("registry.linkage")
    IDENTITY = _space("registry.identity")
    AUDIT = _space("registry.audit")
    SUMMARY_REFRESH = _space("registry.overview.refresh")


def lock_sql(space: LockSpace, key: int | str = 0, *, shared: bool = False) -> str:
    """The statement that waits for a lock until the transaction ends (key: int or :param)."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    return f"SELECT {function}({int(space)}, {key})"


def try_lock_sql(space: LockSpace, key: int | str = 0) -> str:
    """An expression true when the lock was free and is now held until the transaction ends."""
    return f"pg_try_advisory_xact_lock({int(space)}, {key})"


def hold(session: Session, space: LockSpace, key: int = 0, *, shared: bool = False) -> None:
    """Wait for a lock and hold it until the session's transaction ends."""
    session.execute(text(lock_sql(space, ":key", shared=shared)), {"key": key})


def try_hold(session: Session, space: LockSpace, key: int = 0) -> bool:
    """Take a lock if it is free (held until the transaction ends); False when it is not."""
    return bool(
        session.execute(text(f"SELECT {try_lock_sql(space, ':key')}"), {"key": key}).scalar()
    )
