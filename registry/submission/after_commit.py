"""After a batch commits: the programme's active count and the overview summary's refresh.

Not part of the batch: kept out of its transaction they do not hold its locks. Run by
registry.submission.flow once the batch has committed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.core.db import execute_script, with_retries
from registry.core.locks import LockSpace, try_lock_sql
from registry.core.settings import Settings
from registry.ingest.service import BatchOutcome
from registry.overview import summary
from registry.overview.quality import LATEST_COUNT_RECENT, RECORD_COUNT
from registry.programmes.models import Programme

logger = logging.getLogger(__name__)

#: Whether the programme's active count is recent, and whether this batch may refresh the
#: overview summary (a refresh already running elsewhere makes it skip).
_COUNT_RECENT_AND_REFRESH_LOCK = f"""
SELECT ({LATEST_COUNT_RECENT.strip()}) AS recent,
       {try_lock_sql(LockSpace.SUMMARY_REFRESH)} AS locked
"""


def finish_batch(
    session: Session,
    programme: Programme,
    outcome: BatchOutcome,
    settings: Settings,
    chunk: int = 200_000,
) -> None:
    """After a new batch commits: count the programme's actives, refresh the overview summary.

    What record_batch_active_count and refresh_summary do, in fewer round trips. Run it in its
    own transaction: the count reads every current episode of the programme (about a second
    at a million persons), and inside the batch's transaction it held the linkage lock that
    every other batch waits for. If it never runs (a crash), nothing is lost: the persons stay
    marked dirty for the next refresh, and the quality report counts a batch without a stored
    count from system time.
    """
    if outcome.feed_batch_id is None:
        return
    params: dict[str, Any] = {
        "feed_batch_id": outcome.feed_batch_id,
        "programme_id": programme.id,
        "seconds": settings.active_count_interval_seconds,
        "limit": chunk,
    }
    state = session.execute(text(_COUNT_RECENT_AND_REFRESH_LOCK), params).one()
    if settings.active_count_interval_seconds <= 0 or not state.recent:
        session.execute(text(RECORD_COUNT), params)
    locked = bool(state.locked)
    while locked:
        claimed = int(execute_script(session, summary.REFRESH_PASS, params).scalar_one())
        if claimed < chunk:
            break


def finish_committed_batch(
    session: Session, programme: Programme, outcome: BatchOutcome, settings: Settings
) -> None:
    """finish_batch in a transaction of its own, once the batch has committed.

    The batch stands whatever happens here, so a failure is logged and not raised: its
    persons stay marked dirty until the next refresh, and the report counts it from system
    time. For the same reason this commit does not wait for its WAL to reach the disk
    (synchronous_commit off, this transaction only): what a crash could lose of it is
    derived data that the next refresh rebuilds, and the request saves a second flush.
    """
    if outcome.feed_batch_id is None:
        return

    def work() -> None:
        session.execute(text("SET LOCAL synchronous_commit = off"))
        finish_batch(session, programme, outcome, settings)

    try:
        with_retries(session, work)
        session.commit()
    except DBAPIError:
        session.rollback()
        logger.exception(
            "batch %s: summary refresh and active count left for later", outcome.feed_batch_id
        )
