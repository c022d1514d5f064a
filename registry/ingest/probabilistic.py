"""Probabilistic resolution of the batch records no national ID resolved (over the stage)."""

from __future__ import annotations

import json
import zlib
from dataclasses import fields
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage.normalise import normalise_frame
from registry.ingest import queries
from registry.matching.assign import assign
from registry.matching.scoring import score_external, score_internal
from registry.matching.store import active_model
from registry.persons.golden import PERSON_FIELDS
from registry.settings import Settings

#: Advisory lock serialising probabilistic resolution, so that two batches holding the same
#: new person (without a national ID) cannot both create it: the second sees the first's keys.
LINKAGE_LOCK_SPACE = zlib.crc32(b"registry.linkage") & 0x7FFFFFFF

_UNRESOLVED = f"""
SELECT ord, new_person_id, encode(nid_digest, 'hex') AS nid, {", ".join(PERSON_FIELDS)}
FROM ingest_stage WHERE action = 'create' AND person_id IS NULL ORDER BY ord
"""

#: Candidate registry records per unresolved record, bounded whatever the registry's size:
#: a key held by more than :max_block records (a very common name, a default birth date
#: such as 1900-01-01) is skipped, its size counted only up to :max_block + 1 rows; of the
#: rest, the :max_candidates records sharing the most keys with the record are kept (a true
#: match shares most of its keys, a block-mate one), so the work per record stays flat.
_CANDIDATE_PAIRS = """
WITH wanted AS (
    SELECT DISTINCT k.key FROM key_stage k
    JOIN ingest_stage s ON s.ord = k.ord AND s.action = 'create' AND s.person_id IS NULL
), usable AS (
    SELECT w.key FROM wanted w
    WHERE (SELECT count(*) FROM (SELECT 1 FROM blocking_key b WHERE b.key = w.key
                                 LIMIT :max_block + 1) x) <= :max_block
), shared AS (
    SELECT k.ord, b.source_record_id AS record_id, count(*) AS keys
    FROM key_stage k
    JOIN ingest_stage s ON s.ord = k.ord AND s.action = 'create' AND s.person_id IS NULL
    JOIN usable u ON u.key = k.key
    JOIN blocking_key b ON b.key = k.key
    GROUP BY k.ord, b.source_record_id
), ranked AS (
    SELECT ord, record_id,
           row_number() OVER (PARTITION BY ord ORDER BY keys DESC, record_id DESC) AS rank
    FROM shared
)
SELECT ord, record_id FROM ranked WHERE rank <= :max_candidates
"""

_CANDIDATE_RECORDS = f"""
SELECT r.id AS record_id, r.person_id::text AS person_id,
       EXISTS (SELECT 1 FROM person_identifier i WHERE i.person_id = r.person_id)
           AS person_has_id,
       {", ".join("r." + f for f in PERSON_FIELDS)}
FROM source_record r
WHERE r.id = ANY(:ids) AND NOT r.retracted
"""

_BATCH_KEYS = "SELECT key, ord AS id FROM key_stage WHERE ord = ANY(:ords)"


def resolve_probabilistically(session: Session, settings: Settings) -> dict[str, int]:
    """Score unresolved records against the registry and each other; decide and stage links."""
    rows = session.execute(text(_UNRESOLVED)).mappings().all()
    if not rows:
        return {}
    session.execute(text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": LINKAGE_LOCK_SPACE})
    model_id, model = active_model(session)
    batch = _frame(rows, "ord")
    batch["new_person_id"] = batch["new_person_id"].astype(str)
    max_block = settings.linkage_max_block
    limits = {"max_block": max_block, "max_candidates": settings.linkage_max_candidates}
    pairs = pd.DataFrame(
        session.execute(text(_CANDIDATE_PAIRS), limits).all(),
        columns=["ord", "record_id"],
    )
    candidates = _candidates(session, pairs)
    pairs = pairs[pairs["record_id"].isin(candidates.index)]
    external = score_external(batch, candidates, pairs, model)
    keys = pd.DataFrame(
        session.execute(text(_BATCH_KEYS), {"ords": batch.index.tolist()}).all(),
        columns=["key", "id"],
    )
    internal = score_internal(batch, keys, model, max_block)
    assignments, reviews = assign(batch, external, internal)
    session.execute(
        text(queries.APPLY_ASSIGNMENTS),
        {"rows": _json_rows(assignments), "model_id": model_id},
    )
    if reviews:
        session.execute(text(queries.STAGE_REVIEWS), {"rows": _json_rows(reviews)})
    counts: dict[str, int] = {"review": len(reviews)}
    for a in assignments:
        counts[a.method] = counts.get(a.method, 0) + 1
    return counts


def _json_rows(items: list[Any]) -> str:
    """Dataclass rows as one JSON document (shallow: explanations are JSON already)."""
    if not items:
        return "[]"
    names = [f.name for f in fields(items[0])]
    return json.dumps([{n: getattr(item, n) for n in names} for item in items])


def _candidates(session: Session, pairs: pd.DataFrame) -> pd.DataFrame:
    """The candidate registry records (not retracted), normalised, indexed by record id."""
    ids = [int(x) for x in pairs["record_id"].unique()]
    rows = session.execute(text(_CANDIDATE_RECORDS), {"ids": ids}).mappings().all() if ids else []
    if not rows:
        columns = ["record_id", "person_id", "person_has_id", *PERSON_FIELDS]
        return pd.DataFrame(columns=columns).set_index("record_id")
    return _frame(rows, "record_id")


def _frame(rows: Any, index: str) -> pd.DataFrame:
    """Rows as a normalised frame (dates as ISO strings, as the engine expects)."""
    frame = pd.DataFrame([dict(r) for r in rows]).set_index(index)
    frame["birth_date"] = frame["birth_date"].map(lambda d: d.isoformat() if d else None)
    return normalise_frame(frame)
