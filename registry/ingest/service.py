"""Feed ingest: validate a batch per record, resolve it set-based, persist it in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from linkage.blocking import blocking_keys
from registry.core.db import execute_script, with_retries
from registry.core.errors import Conflict, PayloadTooLarge
from registry.core.locks import LockSpace, try_lock_sql
from registry.core.metrics import observe_batch_size, observe_link_outcomes
from registry.core.settings import Settings
from registry.identity.national_id import SCHEMES
from registry.ingest import queries
from registry.ingest.models import FeedBatch
from registry.ingest.validation import Issue, RuleSet, ValidRecord, validate_record
from registry.matching.incremental import UNRESOLVED, resolve_probabilistically
from registry.overview import summary
from registry.overview.quality import LATEST_COUNT_RECENT, RECORD_COUNT
from registry.programmes.models import Programme

logger = logging.getLogger(__name__)

#: Advisory-lock namespace for "one batch at a time per programme".


@dataclass(frozen=True)
class Outcome:
    """What happened to one valid record: action, person, link method, score, review."""

    action: str
    person_id: str | None
    method: str | None
    score: float | None
    review: bool


@dataclass(frozen=True)
class BatchOutcome:
    """The answer to a batch, whether it was a replay, and a new batch's row (finish_batch)."""

    response: dict[str, Any]
    replayed: bool
    feed_batch_id: int | None = None


def rules_for(programme: Programme, settings: Settings, today: date | None = None) -> RuleSet:
    """The validation rules of a programme under this deployment's settings."""
    return RuleSet(
        programme_benefit_codes=frozenset(programme.benefit_codes),
        check_national_id=SCHEMES[settings.national_id_scheme],
        national_id_key=settings.secret("national_id_key").encode(),
        today=today or date.today(),
    )


def content_hash(records: list[Any]) -> bytes:
    """Digest of a batch's records, to tell a re-send from a different batch."""
    text_form = json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text_form.encode()).digest()


def ingest_batch(
    session: Session,
    *,
    programme: Programme,
    batch_id: str,
    records: list[Any],
    submitted_by: str,
    settings: Settings,
    today: date | None = None,
) -> BatchOutcome:
    """Ingest one feed batch: idempotent per batch_id, all-or-nothing, per-record results.

    Once its transaction commits, call finish_batch (in a transaction of its own) for the
    overview summary and the programme's active count: they are not part of the batch, and
    kept out of its transaction they do not hold the batch's locks.
    """
    if len(records) > settings.max_batch_records:
        raise PayloadTooLarge(
            f"a batch holds at most {settings.max_batch_records} records; got {len(records)}"
        )
    digest = content_hash(records)
    feed_batch_id = _claim_batch(session, programme, batch_id, digest, submitted_by)
    if feed_batch_id is None:
        return BatchOutcome(_stored_answer(session, programme, batch_id, digest), replayed=True)
    rules = rules_for(programme, settings, today)
    checked = [validate_record(raw, rules) for raw in records]
    valid, rejected = _split(checked)
    outcomes = _resolve_and_store(session, programme, feed_batch_id, valid, settings)
    response = _answer(batch_id, records, checked, valid, rejected, outcomes)
    _store_answer(session, programme, feed_batch_id, response)
    observe_batch_size(len(records))
    observe_link_outcomes(Counter(str(r["status"]) for r in response["results"]))
    return BatchOutcome(response, replayed=False, feed_batch_id=feed_batch_id)


def _claim_batch(
    session: Session, programme: Programme, batch_id: str, digest: bytes, submitted_by: str
) -> int | None:
    """Insert the batch row; None if this batch_id was already received."""
    row = session.execute(
        text(
            "INSERT INTO feed_batch (programme_id, batch_id, content_hash, submitted_by) "
            "VALUES (:p, :b, :h, :s) ON CONFLICT (programme_id, batch_id) DO NOTHING RETURNING id"
        ),
        {"p": programme.id, "b": batch_id, "h": digest, "s": submitted_by},
    ).first()
    return None if row is None else int(row[0])


def _stored_answer(
    session: Session, programme: Programme, batch_id: str, digest: bytes
) -> dict[str, Any]:
    """The first answer to a re-sent batch, or 409 if its content differs."""
    batch = session.scalars(
        select(FeedBatch).where(
            FeedBatch.programme_id == programme.id, FeedBatch.batch_id == batch_id
        )
    ).one()
    if bytes(batch.content_hash) != digest or batch.response is None:
        raise Conflict(f"batch {batch_id!r} was already received with other content")
    return batch.response


Checked = tuple[ValidRecord | None, list[Issue], list[Issue]]


def _split(checked: list[Checked]) -> tuple[dict[int, ValidRecord], dict[int, list[Issue]]]:
    """Valid records by position, and errors by position (a repeated source_id is an error)."""
    valid: dict[int, ValidRecord] = {}
    rejected: dict[int, list[Issue]] = {}
    seen: set[str] = set()
    for ord_, (record, errors, _) in enumerate(checked):
        if record is None:
            rejected[ord_] = errors
        elif record.source_id in seen:
            rejected[ord_] = [
                {
                    "field": "source_id",
                    "code": "duplicate_in_batch",
                    "message": "source_id appears earlier in this batch",
                }
            ]
        else:
            seen.add(record.source_id)
            valid[ord_] = record
    return valid, rejected


def _stage_rows(valid: dict[int, ValidRecord]) -> str:
    """The valid records as one JSON document for FILL_STAGE."""
    rows = [
        {
            "ord": ord_,
            "source_id": r.source_id,
            "retracted": r.retracted,
            "nid_digest": r.national_id_digest.hex() if r.national_id_digest else None,
            "nid_masked": r.national_id_masked,
            "given_name": r.given_name,
            "family_name": r.family_name,
            "birth_date": _iso(r.birth_date),
            "sex": r.sex,
            "region": r.region,
            "municipality": r.municipality,
            "mother_name": r.mother_name,
            "benefit_code": r.benefit_code,
            "target_group": r.target_group,
            "status": r.status,
            "start_date": _iso(r.start_date),
            "end_date": _iso(r.end_date),
            "amount": r.amount,
            "payload": r.payload,
            "payload_hash": r.payload_hash.hex(),
        }
        for ord_, r in valid.items()
    ]
    return json.dumps(rows, ensure_ascii=False)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _resolve_and_store(
    session: Session,
    programme: Programme,
    feed_batch_id: int,
    valid: dict[int, ValidRecord],
    settings: Settings,
) -> dict[int, Outcome]:
    """Stage the valid records and run the set-based resolution; one outcome per record."""
    if not valid:
        return {}
    params: dict[str, Any] = {
        "programme_id": programme.id,
        "scheme": settings.national_id_scheme,
        "feed_batch_id": feed_batch_id,
    }
    # one round trip: lock, stage, classify, link known IDs, and read what is left to match
    unresolved = (
        execute_script(
            session,
            [*queries.STAGING, *queries.BEFORE_MATCHING, UNRESOLVED],
            {**params, "rows": _stage_rows(valid), "key_rows": _key_rows(valid)},
        )
        .mappings()
        .all()
    )
    _, pending = resolve_probabilistically(session, settings, unresolved)
    # one round trip: stage the decisions, persist everything, and read the outcomes
    for _, step_params in pending:
        params.update(step_params)
    rows = execute_script(
        session, [*(sql for sql, _ in pending), *queries.AFTER_MATCHING, queries.OUTCOMES], params
    ).all()
    return {
        int(r.ord): Outcome(
            r.action,
            str(r.person_id) if r.person_id else None,
            r.method,
            None if r.score is None else round(float(r.score), 3),
            bool(r.review),
        )
        for r in rows
    }


def _key_rows(valid: dict[int, ValidRecord]) -> str:
    """The blocking keys of the batch's live records, as one JSON document for FILL_KEYS."""
    rows = [
        {"ord": ord_, "key": key}
        for ord_, r in valid.items()
        if not r.retracted
        for key in record_keys(r)
    ]
    return json.dumps(rows, ensure_ascii=False)


def record_keys(record: ValidRecord) -> list[str]:
    """The blocking keys a valid record is stored (and searched) under."""
    return blocking_keys(
        {
            "given_name": record.given_name,
            "family_name": record.family_name,
            "birth_date": record.birth_date,
            "region": record.region,
            "municipality": record.municipality,
            "mother_name": record.mother_name,
        }
    )


_STATUS = {"unchanged": "unchanged", "retract": "retracted"}


def _result(source_id: str, outcome: Outcome) -> dict[str, Any]:
    action, person_id, method = outcome.action, outcome.person_id, outcome.method
    if action == "unknown":
        return {
            "source_id": source_id,
            "status": "rejected",
            "errors": [
                {
                    "field": "source_id",
                    "code": "unknown_source_id",
                    "message": "cannot retract a record that was never received",
                }
            ],
        }
    status = _STATUS.get(action) or (
        "created" if method == "new" and action == "create" else "linked"
    )
    if action == "update" and method == "new":
        status = "linked"
    if outcome.review and action == "create":
        status = "review"
    return {
        "source_id": source_id,
        "status": status,
        "person_id": person_id,
        "method": method,
        "score": outcome.score,
    }


def _answer(
    batch_id: str,
    records: list[Any],
    checked: list[Checked],
    valid: dict[int, ValidRecord],
    rejected: dict[int, list[Issue]],
    outcomes: dict[int, Outcome],
) -> dict[str, Any]:
    """The batch answer of API.md, results in the order the records came."""
    results: list[dict[str, Any]] = []
    for ord_, raw in enumerate(records):
        if ord_ in valid:
            result = _result(valid[ord_].source_id, outcomes[ord_])
        else:
            source_id = raw.get("source_id") if isinstance(raw, dict) else None
            result = {
                "source_id": source_id if isinstance(source_id, str) else None,
                "status": "rejected",
                "errors": rejected[ord_],
            }
        warnings = checked[ord_][2]
        if warnings:
            result["warnings"] = warnings
        results.append(result)
    counts = {"rejected": 0, "unchanged": 0}
    for result in results:
        if result["status"] in counts:
            counts[result["status"]] += 1
    return {
        "batch_id": batch_id,
        "received": len(records),
        "accepted": len(records) - counts["rejected"] - counts["unchanged"],
        "rejected": counts["rejected"],
        "unchanged": counts["unchanged"],
        "results": results,
    }


_STORE_ANSWER = """
UPDATE feed_batch SET received = :r, accepted = :a, rejected = :x, unchanged = :u,
    response = CAST(:resp AS jsonb)
WHERE id = :id
"""


def _store_answer(
    session: Session, programme: Programme, feed_batch_id: int, response: dict[str, Any]
) -> None:
    """Keep the batch's answer and its per-record issues (one round trip)."""
    issues = [
        {"source_id": result["source_id"], "severity": severity, **issue}
        for result in response["results"]
        for severity, key in (("error", "errors"), ("warning", "warnings"))
        for issue in result.get(key, ())
    ]
    params: dict[str, Any] = {
        "feed_batch_id": feed_batch_id,
        "programme_id": programme.id,
        "rows": json.dumps(issues, ensure_ascii=False),
        "r": response["received"],
        "a": response["accepted"],
        "x": response["rejected"],
        "u": response["unchanged"],
        "resp": json.dumps(response),
        "id": feed_batch_id,
    }
    execute_script(session, [*([queries.INSERT_ISSUES] if issues else []), _STORE_ANSWER], params)


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
