"""Two small read-only lookups the dashboard needs: last feed batches, the review queue's size.

The last batches are a plain ORM select over registry models (the import still flows
api -> registry), a candidate to move into registry/ingest when that file is next touched;
the review queue's size comes from registry.matching.review_scope, the steward list's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.ingest.models import FeedBatch
from registry.matching.review_scope import pending_by_reason
from registry.programmes.models import Programme


def last_batches(session: Session, programme: Programme, limit: int = 10) -> list[dict[str, Any]]:
    """A programme's newest feed batches with their record counts, newest first."""
    rows = session.scalars(
        select(FeedBatch)
        .where(FeedBatch.programme_id == programme.id)
        .order_by(FeedBatch.received_at.desc(), FeedBatch.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "batch_id": b.batch_id,
            "received_at": b.received_at.isoformat(timespec="seconds"),
            "received": b.received,
            "accepted": b.accepted,
            "rejected": b.rejected,
            "unchanged": b.unchanged,
            "submitted_by": b.submitted_by,
        }
        for b in rows
    ]


@dataclass(frozen=True)
class ReasonCount:
    """Pending items of one reason."""

    reason: str
    pending: int


@dataclass(frozen=True)
class QueueSize:
    """The review queue as a count: pending items, by reason, and the oldest one's age."""

    pending: int
    by_reason: list[ReasonCount]
    oldest_created_at: str | None
    oldest_age_hours: float | None


def review_queue(session: Session, principal: Principal, now: datetime | None = None) -> QueueSize:
    """Pending review items: how many, by reason, and the oldest one's age.

    Oversight sees the whole queue as a count (an aggregate, like coverage); a steward counts
    the items the steward's review list shows (registry.matching.review_scope's rule).
    """
    rows = pending_by_reason(session, principal, whole_queue=principal.has_any("oversight"))
    oldest = min((r[2] for r in rows), default=None)
    now = now or datetime.now(UTC)
    return QueueSize(
        pending=sum(int(r[1]) for r in rows),
        by_reason=[ReasonCount(r[0], int(r[1])) for r in rows],
        oldest_created_at=oldest.isoformat(timespec="seconds") if oldest else None,
        oldest_age_hours=round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
    )
