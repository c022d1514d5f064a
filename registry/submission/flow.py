"""submit_batch: the one flow every batch takes, whichever way it came in.

Ingest and the audit event in one transaction (retried on a deadlock or serialization
failure), the commit, then the after-commit work in a transaction of its own. The flow owns
the batch's transaction: callers hand it a session with no work of their own pending and
do not commit for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from registry.audit.service import AuditContext, record_event
from registry.core.db import with_retries
from registry.core.settings import Settings
from registry.ingest.answers import BatchAnswer, RecordResult
from registry.ingest.service import BatchOutcome, ingest_batch
from registry.programmes.models import Programme
from registry.submission.after_commit import finish_committed_batch

#: The audit action of a batch pushed over HTTP (POST /programmes/{code}/batches).
FEED_BATCH = "feed.batch"
#: The audit action of a batch of an imported file (upload or `registry import`).
FILE_IMPORT = "feed.import"
#: The audit action of a test delivery: ingested, answered, rolled back (`?dry_run=true`).
FEED_DRY_RUN = "feed.dry_run"


@dataclass(frozen=True)
class Channel:
    """Who sends a batch and how: kept with the batch and named in the audit trail."""

    submitted_by: str
    #: Who acts, for the audit event; None writes no event (the demo's generated feeds).
    audit: AuditContext | None
    action: str = FEED_BATCH
    #: What the channel adds to the event's detail (a file's rows, hash and name).
    detail: Mapping[str, Any] = field(default_factory=dict)


def submit_batch(
    session: Session,
    *,
    programme: Programme,
    batch_id: str,
    records: list[Any],
    channel: Channel,
    settings: Settings,
    today: date | None = None,
) -> BatchOutcome:
    """Ingest, audit and commit one batch, then count and refresh after the commit."""

    def ingest_and_audit() -> BatchOutcome:
        outcome = ingest_batch(
            session,
            programme=programme,
            batch_id=batch_id,
            records=records,
            submitted_by=channel.submitted_by,
            settings=settings,
            today=today,
        )
        if channel.audit is not None:
            _audit(session, channel, programme, batch_id, outcome)
        return outcome

    try:
        outcome = with_retries(session, ingest_and_audit)
        session.commit()  # the batch is durable here; what follows is not part of it
    except BaseException:
        session.rollback()
        raise
    finish_committed_batch(session, programme, outcome, settings)
    return outcome


def preview_batch(
    session: Session,
    *,
    programme: Programme,
    batch_id: str,
    records: list[Any],
    channel: Channel,
    settings: Settings,
    today: date | None = None,
) -> BatchOutcome:
    """A test delivery: the real ingest, its answer taken, then rolled back; only audited.

    The batch runs the very path a real one takes (validation, the linkage lock, matching),
    so its per-record answer is what the real batch would get now; the rollback undoes every
    row it wrote (the batch id stays free). The audit event, in a transaction of its own, is
    the one thing kept.
    """
    try:
        outcome = with_retries(
            session,
            lambda: ingest_batch(
                session,
                programme=programme,
                batch_id=batch_id,
                records=records,
                submitted_by=channel.submitted_by,
                settings=settings,
                today=today,
            ),
        )
    finally:
        session.rollback()  # nothing of the batch is kept
    # a re-sent batch id answers its stored answer: its persons exist, keep their ids
    answer = replace(outcome.answer, dry_run=True)
    preview = BatchOutcome(answer if outcome.replayed else dry_run_answer(answer), outcome.replayed)
    if channel.audit is not None:
        try:
            _audit(session, channel, programme, batch_id, preview)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return preview


def dry_run_answer(answer: BatchAnswer) -> BatchAnswer:
    """The answer marked as a dry run; a person the rollback undid is named by no id."""
    return replace(answer, dry_run=True, results=[_previewed(r) for r in answer.results])


def _previewed(result: RecordResult) -> RecordResult:
    # a new person exists only in the rolled-back transaction: its id would name nobody
    return replace(result, person_id=None) if result.method == "new" else result


def _audit(
    session: Session, channel: Channel, programme: Programme, batch_id: str, outcome: BatchOutcome
) -> None:
    """The batch's audit event: every linked person and record, the counts, the channel's say."""
    assert channel.audit is not None
    answer = outcome.answer
    linked = answer.linked()
    record_event(
        session,
        channel.audit,
        channel.action,
        person_ids=[r.person_id for r in linked if r.person_id],
        record_ids=[f"{programme.code}:{r.source_id}" for r in linked],
        detail={
            "programme": programme.code,
            "batch_id": batch_id,
            **channel.detail,
            "replayed": outcome.replayed,
            "received": answer.received,
            "accepted": answer.accepted,
            "rejected": answer.rejected,
        },
    )
