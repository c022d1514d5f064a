"""Feed ingest: validate a batch per record, resolve it set-based, persist it in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage.blocking import blocking_keys
from registry.codelists.book import ProgrammeCodes, code_book
from registry.core.db import execute_script
from registry.core.errors import PayloadTooLarge
from registry.core.metrics import observe_batch_size, observe_link_outcomes
from registry.core.settings import Settings
from registry.identity.national_id import SCHEMES
from registry.ingest import queries
from registry.ingest.answers import (
    BatchAnswer,
    Checked,
    Outcome,
    build_answer,
    store_answer,
    stored_answer,
)
from registry.ingest.validation import Issue, RuleSet, ValidRecord, validate_record
from registry.matching.incremental import UNRESOLVED, resolve_probabilistically
from registry.programmes.models import Programme
from registry.records.fields import GOLDEN_FIELDS, STORED


@dataclass(frozen=True)
class BatchOutcome:
    """The answer to a batch, whether it was a replay, and a new batch's row (feed_batch.id)."""

    answer: BatchAnswer
    replayed: bool
    feed_batch_id: int | None = None


def rules_for(
    programme: Programme,
    settings: Settings,
    today: date | None = None,
    codes: ProgrammeCodes | None = None,
) -> RuleSet:
    """The validation rules of a programme under this deployment's settings and code lists."""
    return RuleSet(
        programme_benefit_codes=frozenset(programme.benefit_codes),
        check_national_id=SCHEMES[settings.national_id_scheme],
        national_id_key=settings.secret("national_id_key").encode(),
        today=today or date.today(),
        codes=codes,
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

    In the caller's transaction; registry.submission.submit_batch is the entry point that
    audits, commits and runs the after-commit work (active count, overview summary).
    """
    if len(records) > settings.max_batch_records:
        raise PayloadTooLarge(
            f"a batch holds at most {settings.max_batch_records} records; got {len(records)}"
        )
    digest = content_hash(records)
    feed_batch_id = _claim_batch(session, programme, batch_id, digest, submitted_by)
    if feed_batch_id is None:
        return BatchOutcome(stored_answer(session, programme, batch_id, digest), replayed=True)
    # the lists in force, once per batch (cached in the process; one cheap staleness check)
    rules = rules_for(programme, settings, today, code_book(session).for_programme(programme.code))
    checked = [validate_record(raw, rules) for raw in records]
    valid, rejected = _split(checked)
    outcomes = _resolve_and_store(session, programme, feed_batch_id, valid, settings)
    answer = build_answer(batch_id, records, checked, valid, rejected, outcomes)
    store_answer(session, programme, feed_batch_id, answer)
    observe_batch_size(len(records))
    observe_link_outcomes(Counter(r.status for r in answer.results))
    return BatchOutcome(answer, replayed=False, feed_batch_id=feed_batch_id)


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
    """The valid records as one JSON document for FILL_STAGE (its fields: records.fields)."""
    rows = [
        {
            "ord": ord_,
            "source_id": r.source_id,
            "retracted": r.retracted,
            "nid_digest": r.national_id_digest.hex() if r.national_id_digest else None,
            "nid_masked": r.national_id_masked,
            **{f.name: _json_value(getattr(r, f.name)) for f in STORED},
            "payload": r.payload,
            "payload_hash": r.payload_hash.hex(),
        }
        for ord_, r in valid.items()
    ]
    return json.dumps(rows, ensure_ascii=False)


def _json_value(value: object) -> object:
    """A field's value as JSON carries it (a date as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else value


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
    return blocking_keys({name: getattr(record, name) for name in GOLDEN_FIELDS})
