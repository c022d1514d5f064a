"""The chain's status for the auditor's page: the last verification run, the last kept anchor.

Verifying the whole chain reads every event (linear in the trail), so a page never does it
on view: an auditor asks for it (one at a time over the registry), the outcome is written to
the trail as an `audit.verify` event, and the page shows the newest such event. Anchors are
kept outside the database; `registry audit anchor --out FILE` also notes each one in
`audit_anchor`, and the page shows the newest note, with whether the anchored event still
stands in the chain with the anchored hash (one indexed lookup, not a verification).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.audit.anchors import Anchor
from registry.audit.manifest import verify_trail
from registry.audit.models import AuditAnchor, AuditEvent
from registry.audit.schemas import TrailCheck
from registry.audit.service import AuditContext, record_event
from registry.core.locks import LockSpace, try_lock_sql

VERIFY_ACTION = "audit.verify"
#: Key of the verification's lock in the audit lock space (0 is the chain writer's).
VERIFY_LOCK_KEY = 1


@dataclass(frozen=True)
class Verification:
    """A verification someone ran (an `audit.verify` event): when, who, what it found."""

    event_id: int
    at: datetime
    actor: str
    ok: bool
    events_checked: int
    head_id: int | None
    first_broken: int | None
    problems: list[str]


@dataclass(frozen=True)
class KeptAnchor:
    """The newest anchor noted as kept outside the database, and whether the chain holds it."""

    event_id: int
    event_hash: str
    events: int
    anchored_at: datetime
    recorded_by: str
    #: the anchored event is in the trail with the anchored hash
    in_chain: bool


@dataclass(frozen=True)
class ChainStatus:
    """The last verification run and the last kept anchor (either may be missing)."""

    verification: Verification | None
    anchor: KeptAnchor | None


def verify_and_record(session: Session, reads: Session, context: AuditContext) -> TrailCheck | None:
    """Verify the trail on `reads`, record the outcome on `session`; None if one is running."""
    free = session.execute(text(f"SELECT {try_lock_sql(LockSpace.AUDIT, VERIFY_LOCK_KEY)}"))
    if not free.scalar_one():
        return None
    outcome = verify_trail(reads)
    detail: dict[str, Any] = {
        "ok": outcome.ok,
        "events_checked": outcome.events_checked,
        "head_id": outcome.head_id,
        "first_broken": outcome.first_broken,
        "problems": outcome.problems,
    }
    record_event(
        session,
        context,
        VERIFY_ACTION,
        outcome="ok" if outcome.ok else "failure",
        detail=detail,
    )
    return outcome


def note_anchor(session: Session, anchor: Anchor, recorded_by: str) -> None:
    """Note an anchor just kept outside the database (append-only; not an audit event)."""
    session.add(
        AuditAnchor(
            event_id=anchor.event_id,
            event_hash=anchor.hash,
            events=anchor.count,
            anchored_at=datetime.fromisoformat(anchor.anchored_at),
            recorded_by=recorded_by[:200],
        )
    )
    session.flush()


def chain_status(session: Session) -> ChainStatus:
    """The newest `audit.verify` event and the newest kept anchor (three indexed reads)."""
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == VERIFY_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).one_or_none()
    verification = None
    if event is not None:
        found = event.detail
        verification = Verification(
            event_id=event.id,
            at=event.occurred_at,
            actor=event.actor,
            ok=bool(found.get("ok")),
            events_checked=int(found.get("events_checked") or 0),
            head_id=found.get("head_id"),
            first_broken=found.get("first_broken"),
            problems=[str(p) for p in found.get("problems") or []],
        )
    return ChainStatus(verification, _last_anchor(session))


def _last_anchor(session: Session) -> KeptAnchor | None:
    row = session.scalars(
        select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return None
    held = session.scalars(
        select(AuditEvent.hash).where(AuditEvent.id == row.event_id).limit(1)
    ).one_or_none()
    return KeptAnchor(
        event_id=row.event_id,
        event_hash=row.event_hash,
        events=row.events,
        anchored_at=row.anchored_at,
        recorded_by=row.recorded_by,
        in_chain=held is not None and bytes(held).hex() == row.event_hash,
    )
