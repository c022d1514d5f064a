"""Two small read-only lookups the dashboard needs and no registry service offers yet.

Both are plain ORM selects over registry models (the import still flows api -> registry):
a programme's last feed batches, and the review queue's size and age. Candidates to move into
registry/ingest and registry/matching services when those files are next touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from registry.access.principal import Principal
from registry.ingest.models import FeedBatch, SourceRecord
from registry.matching.models import MatchCandidate
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


def review_queue(
    session: Session, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Pending review items: how many, by reason, and the oldest one's age.

    Oversight sees the whole queue as a count (an aggregate, like coverage); a steward sees
    the items of their regions, with the region rule of the steward's review list.
    """
    record, candidate = aliased(SourceRecord), aliased(SourceRecord)
    query = (
        select(MatchCandidate.reason, func.count(), func.min(MatchCandidate.created_at))
        .join(record, record.id == MatchCandidate.source_record_id)
        .outerjoin(candidate, candidate.id == MatchCandidate.candidate_record_id)
        .where(MatchCandidate.status == "pending")
        .group_by(MatchCandidate.reason)
        .order_by(MatchCandidate.reason)
    )
    if not principal.has_any("oversight") and not principal.all_regions:
        regions = sorted(principal.regions)
        query = query.where(or_(record.region.in_(regions), candidate.region.in_(regions)))
    rows = session.execute(query).all()
    oldest = min((r[2] for r in rows), default=None)
    now = now or datetime.now(UTC)
    return {
        "pending": sum(int(r[1]) for r in rows),
        "by_reason": [{"reason": r[0], "pending": int(r[1])} for r in rows],
        "oldest_created_at": oldest.isoformat(timespec="seconds") if oldest else None,
        "oldest_age_hours": round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
    }
