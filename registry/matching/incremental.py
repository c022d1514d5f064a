"""The probabilistic step of ingest: resolve the batch records no national ID resolved.

Runs over the ingest's stage tables (ingest_stage, key_stage, review_stage): finds each
unresolved record's candidates in blocking_key, scores and assigns them with the engine
(linkage), and returns the statements that stage the decisions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage import (
    FIELD_NORMALISERS,
    Assignment,
    FSModel,
    ReviewItem,
    assign,
    assign_one,
    normalise_frame,
    score_batch_pairs,
    score_candidates,
    score_record_candidates,
)
from registry.core.db import execute_script
from registry.core.locks import LockSpace, lock_sql
from registry.core.settings import Settings
from registry.matching.store import active_model
from registry.persons.golden import PERSON_FIELDS

UNRESOLVED = f"""
SELECT ord, new_person_id, encode(nid_digest, 'hex') AS nid, {", ".join(PERSON_FIELDS)}
FROM ingest_stage WHERE action = 'create' AND person_id IS NULL ORDER BY ord
"""

#: Candidate registry records per unresolved record, bounded whatever the registry's size:
#: a key held by more than :max_block records (a very common name, a default birth date
#: such as 1900-01-01) is skipped. A key named in blocking_key_oversized with a size above
#: :max_block is skipped unread; any other is read up to :max_block + 1 rows, and named there
#: when it holds more (migration 0008). A candidate shares two keys with the record, or one
#: key of a block of at most :single_block records (the batch relink's rule,
#: linkage.blocking.pairs_sharing_most_keys: a key alone grows with the registry, a true
#: match shares most keys); the :max_candidates sharing the most keys are kept, so the work
#: per record stays flat.
_CANDIDATE_RANKS = """
WITH wanted AS (
    SELECT DISTINCT k.key FROM key_stage k
    JOIN ingest_stage s ON s.ord = k.ord AND s.action = 'create' AND s.person_id IS NULL
    WHERE NOT EXISTS (SELECT 1 FROM blocking_key_oversized o
                      WHERE o.key = k.key AND o.size > :max_block)
), blocks AS (
    -- each block read once, up to the cap and one more record
    SELECT w.key, x.ids, cardinality(x.ids) AS size FROM wanted w
    CROSS JOIN LATERAL (
        SELECT array_agg(b.source_record_id) AS ids
        FROM (SELECT b.source_record_id FROM blocking_key b WHERE b.key = w.key
              LIMIT :max_block + 1) b
    ) x
), noted AS (
    INSERT INTO blocking_key_oversized AS o (key, size)
    SELECT key, size FROM blocks WHERE size > :max_block
    ON CONFLICT (key) DO UPDATE SET size = greatest(o.size, excluded.size), noted_at = now()
), usable AS (
    SELECT key, ids, size FROM blocks WHERE size <= :max_block
), shared AS (
    SELECT k.ord, r.record_id, count(*) AS keys, min(u.size) AS smallest
    FROM key_stage k
    JOIN ingest_stage s ON s.ord = k.ord AND s.action = 'create' AND s.person_id IS NULL
    JOIN usable u ON u.key = k.key
    CROSS JOIN LATERAL unnest(u.ids) AS r(record_id)
    GROUP BY k.ord, r.record_id
), ranked AS (
    SELECT ord, record_id,
           row_number() OVER (PARTITION BY ord ORDER BY keys DESC, record_id DESC) AS rank
    FROM shared WHERE keys >= 2 OR smallest <= :single_block
)
"""

#: Advisory lock serialising probabilistic resolution, so that two batches holding the same
#: new person (without a national ID) cannot both create it: the second sees the first's keys.
_LOCK_LINKAGE = lock_sql(LockSpace.LINKAGE)

#: Whether a candidate's person holds a national ID: one index probe per candidate record.
#: (As EXISTS, the planner hashes the whole person_identifier table once candidates are
#: thousands, a 1,000-record batch's case: at 1M persons that alone took ~250 ms a batch.)
_HAS_ID = """
LEFT JOIN LATERAL (SELECT true AS found FROM person_identifier i
                   WHERE i.person_id = r.person_id LIMIT 1) has_id ON true
"""

_BATCH_KEYS = "SELECT key, ord AS id FROM key_stage WHERE ord = ANY(:ords)"

#: The candidate pairs in rank order, each with its registry record (not retracted): one
#: query, so the chosen ids do not travel back to the server as a second query's array.
CANDIDATES = f"""{_CANDIDATE_RANKS}
SELECT p.ord, p.record_id, r.person_id::text AS person_id,
       has_id.found IS NOT NULL AS person_has_id,
       {", ".join("r." + f for f in PERSON_FIELDS)}
FROM ranked p
JOIN source_record r ON r.id = p.record_id AND NOT r.retracted
{_HAS_ID}
WHERE p.rank <= :max_candidates
ORDER BY p.ord, p.rank
"""

#: Apply the probabilistic decisions (one JSON parameter, one row per resolved record).
APPLY_ASSIGNMENTS = """
UPDATE ingest_stage s
SET person_id = a.person_id, method = a.method, score = a.score,
    explanation = a.explanation, review = a.review, model_id = :model_id
FROM jsonb_to_recordset(CAST(:assignments AS jsonb)) AS a(
    ord integer, person_id uuid, method text, score double precision, explanation jsonb,
    review boolean)
WHERE s.ord = a.ord
"""

STAGE_REVIEWS = """
INSERT INTO review_stage (ord, person_id, candidate_record_id, candidate_ord, reason, score,
                          explanation)
SELECT ord, person_id, candidate_record_id, candidate_ord, reason, score, explanation
FROM jsonb_to_recordset(CAST(:reviews AS jsonb)) AS x(
    ord integer, person_id uuid, candidate_record_id bigint, candidate_ord integer, reason text,
    score double precision, explanation jsonb)
"""

#: A statement to run after resolution (with the ingest's next steps), and its parameters.
Pending = tuple[str, dict[str, Any]]


def resolve_probabilistically(
    session: Session, settings: Settings, rows: Sequence[Any] | None = None
) -> tuple[dict[str, int], list[Pending]]:
    """Score unresolved records against the registry and each other; decide, stage links.

    rows: the stage's unresolved records (UNRESOLVED), when the caller read them already.
    Returns the counts per method, and the statements that stage the decisions, for the
    caller to send together with its next steps.
    """
    if rows is None:
        rows = session.execute(text(UNRESOLVED)).mappings().all()
    if not rows:
        return {}, []
    model_id, model = active_model(session)
    if len(rows) == 1:
        assignments, reviews = _resolve_one(session, settings, rows[0], model)
    else:
        assignments, reviews = _resolve_batch(session, settings, rows, model)
    pending: list[Pending] = [
        (
            APPLY_ASSIGNMENTS,
            {"assignments": _json_rows(assignments), "model_id": model_id},
        )
    ]
    if reviews:
        pending.append((STAGE_REVIEWS, {"reviews": _json_rows(reviews)}))
    counts: dict[str, int] = {"review": len(reviews)}
    for a in assignments:
        counts[a.method] = counts.get(a.method, 0) + 1
    return counts, pending


def _limits(settings: Settings) -> dict[str, int]:
    return {
        "max_block": settings.linkage_max_block,
        "max_candidates": settings.linkage_max_candidates,
        "single_block": settings.linkage_single_block,
    }


def _resolve_one(
    session: Session, settings: Settings, row: Any, model: FSModel
) -> tuple[list[Assignment], list[ReviewItem]]:
    """A one-record batch: the frame path's decisions, computed without pandas (faster)."""
    found = execute_script(session, [_LOCK_LINKAGE, CANDIDATES], _limits(settings)).mappings().all()
    candidates = [_normalised(c) for c in found]
    external = score_record_candidates(_normalised(row), candidates, model)
    return assign_one(int(row["ord"]), str(row["new_person_id"]), row["nid"] is not None, external)


def _normalised(row: Any) -> dict[str, Any]:
    """A row with its person fields normalised as _frame() normalises a frame's columns."""
    out = dict(row)
    day = out.get("birth_date")
    out["birth_date"] = day.isoformat() if day else None
    for name, func in FIELD_NORMALISERS.items():
        if name in out:
            value = out[name]
            out[name] = None if value is None or value != value else (func(value) or None)
    return out


def _resolve_batch(
    session: Session, settings: Settings, rows: Any, model: FSModel
) -> tuple[list[Assignment], list[ReviewItem]]:
    """Several records: score against the registry and each other with frames, then assign."""
    batch = _frame(rows, "ord")
    batch["new_person_id"] = batch["new_person_id"].astype(str)
    max_block = settings.linkage_max_block
    found = execute_script(session, [_LOCK_LINKAGE, CANDIDATES], _limits(settings)).mappings()
    pairs, candidates = _pairs_and_candidates(found.all())
    external = score_candidates(batch, candidates, pairs, model)
    keys = pd.DataFrame(
        session.execute(text(_BATCH_KEYS), {"ords": batch.index.tolist()}).all(),
        columns=["key", "id"],
    )
    internal = score_batch_pairs(batch, keys, model, max_block)
    return assign(batch, external, internal)


def _json_rows(items: list[Any]) -> str:
    """Dataclass rows as one JSON document (shallow: explanations are JSON already)."""
    if not items:
        return "[]"
    names = [f.name for f in fields(items[0])]
    return json.dumps([{n: getattr(item, n) for n in names} for item in items])


def _pairs_and_candidates(rows: Sequence[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CANDIDATES' rows as (ord, record_id) pairs and normalised records indexed by id."""
    if not rows:
        columns = ["record_id", "person_id", "person_has_id", *PERSON_FIELDS]
        empty = pd.DataFrame(columns=columns).set_index("record_id")
        return pd.DataFrame(columns=["ord", "record_id"]), empty
    pairs = pd.DataFrame([(r["ord"], r["record_id"]) for r in rows], columns=["ord", "record_id"])
    unique = {r["record_id"]: {k: v for k, v in r.items() if k != "ord"} for r in rows}
    return pairs, _frame(list(unique.values()), "record_id")


def _frame(rows: Any, index: str) -> pd.DataFrame:
    """Rows as a normalised frame (dates as ISO strings, as the engine expects)."""
    frame = pd.DataFrame([dict(r) for r in rows]).set_index(index)
    frame["birth_date"] = frame["birth_date"].map(lambda d: d.isoformat() if d else None)
    return normalise_frame(frame)
