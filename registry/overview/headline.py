"""The home page's headline figures: persons, each programme's last batch, the trail's head.

Each figure has its own readers (the roles whose work it is); the page asks only for the
figures the caller's roles may read. All three are cheap: one count, one statement over the
programmes with their newest batch, the last two events of the trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.audit.models import AuditEvent
from registry.audit.service import GENESIS, chain_hash, event_fields
from registry.overview.access import suppressing
from registry.overview.disclosure import DEFAULT_K, small
from registry.overview.schemas import Count

#: Who reads each figure.
PERSON_READERS = ("oversight", "analyst")
BATCH_READERS = ("oversight", "steward", "admin")
CHAIN_READERS = ("oversight", "auditor", "admin")


@dataclass(frozen=True)
class LastBatch:
    """A programme and its newest feed batch (None fields: no batch yet)."""

    programme: str
    name: str
    batch_id: str | None
    received_at: str | None
    received: int | None
    accepted: int | None
    rejected: int | None


@dataclass(frozen=True)
class ChainHead:
    """The trail's newest event and whether its own link holds (not a full verification)."""

    ok: bool
    head_id: int | None
    head_at: str | None
    problem: str | None


_PERSONS = "SELECT count(*) FROM person WHERE merged_into IS NULL"


def person_count(session: Session, principal: Principal, k: int = DEFAULT_K) -> Count:
    """Persons in the registry (merged ones counted once); hidden from analysts when small."""
    principal.require(*PERSON_READERS)
    found = int(session.execute(text(_PERSONS)).scalar_one())
    return None if suppressing(principal, False) and small(found, k) else found


_LAST_BATCHES = """
SELECT g.code, g.name, b.batch_id, b.received_at, b.received, b.accepted, b.rejected
FROM programme g
LEFT JOIN LATERAL (
    SELECT * FROM feed_batch f WHERE f.programme_id = g.id
    ORDER BY f.received_at DESC, f.id DESC LIMIT 1
) b ON true
ORDER BY g.code
"""


def last_batches(session: Session, principal: Principal) -> list[LastBatch]:
    """Every programme with its newest batch: when, how many records, accepted, rejected."""
    principal.require(*BATCH_READERS)
    return [
        LastBatch(
            programme=r.code,
            name=r.name,
            batch_id=r.batch_id,
            received_at=r.received_at.isoformat(timespec="seconds") if r.received_at else None,
            received=r.received,
            accepted=r.accepted,
            rejected=r.rejected,
        )
        for r in session.execute(text(_LAST_BATCHES))
    ]


def chain_head(session: Session, principal: Principal) -> ChainHead:
    """The newest event's hash matches its content and links to the event before it.

    A cheap check for a status line: two rows read, not the chain; `registry audit verify`
    (and the auditor's page) verifies the whole trail.
    """
    principal.require(*CHAIN_READERS)
    last_two = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()
    if not last_two:
        return ChainHead(ok=True, head_id=None, head_at=None, problem=None)
    head = last_two[0]
    problem = None
    if chain_hash(bytes(head.prev_hash), event_fields(head)) != bytes(head.hash):
        problem = f"event {head.id}: its hash does not match its content"
    else:
        before = bytes(last_two[1].hash) if len(last_two) > 1 else GENESIS
        if bytes(head.prev_hash) != before:
            problem = f"event {head.id} does not link to the event before it"
    return ChainHead(
        ok=problem is None,
        head_id=head.id,
        head_at=head.occurred_at.isoformat(timespec="seconds"),
        problem=problem,
    )
