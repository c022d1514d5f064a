"""Re-score the whole registry with a model: plan what would change, then apply it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage import (
    PAIR_BLOCK,
    SINGLE_BLOCK,
    CodedRecords,
    CodedScorer,
    FSModel,
    ScoredLinks,
    distinct,
    explanations,
    pairs_sharing_most_keys,
    recluster,
    refused_links,
    score_pairs,
)
from registry.matching.locks import lock_identities
from registry.matching.relink_data import (
    RegistrySnapshot,
    read_refusals,
    read_snapshot,
)
from registry.persons.golden import refresh_golden_records
from registry.persons.ids import new_person_id

#: Progress of a stage ('reading', 'pairing', 'scoring', 'clustering'): done of total.
Progress = Callable[[str, int, int], None]

#: Pairs scored at a time: ~2M pairs hold a few hundred MiB of intermediate arrays.
SCORE_CHUNK = 2_000_000


@dataclass(frozen=True)
class ReviewPairs:
    """Uncertain pairs left in different persons; explained only when queued (on apply)."""

    records: CodedRecords
    model: FSModel
    a: np.ndarray  # record positions
    b: np.ndarray
    person: np.ndarray  # the person b ends up in (UUID), which a is queued against

    def __len__(self) -> int:
        return len(self.a)

    def rows(self) -> list[dict[str, Any]]:
        """Review queue rows with the stewards' explanations (through the frame pipeline)."""
        if not len(self.a):
            return []
        ids = self.records.ids
        frame = self.records.frame(distinct(np.concatenate([self.a, self.b])))
        pairs = pd.MultiIndex.from_arrays([ids[self.a], ids[self.b]])
        scored = score_pairs(pairs, frame, None, self.model, normalised=True)
        notes = explanations(scored, np.arange(len(self.a)))
        return [
            {
                "record_id": int(ids[self.a[i]]),
                "person_id": self.person[i],
                "candidate_record_id": int(ids[self.b[i]]),
                "score": float(scored["score"].iat[i]),
                "explanation": note,
            }
            for i, note in enumerate(notes)
        ]


@dataclass(frozen=True)
class RelinkSummary:
    """What a relink plan would change, in counts, for the operator before anything applies."""

    records: int
    pairs_scored: int
    records_moving: int
    persons_losing_records: int
    new_persons: int
    reviews: int
    id_conflict_groups: int


@dataclass(frozen=True)
class RelinkPlan:
    """What a relink would change: record moves, new persons, reviews, unresolved conflicts."""

    records: int
    pairs_scored: int
    moves: pd.DataFrame  # record_id, from_person, to_person, new_person, score
    reviews: ReviewPairs | None = None
    conflicts: int = 0
    holds_identities: bool = False  # read under the identity lock, so it may be applied

    def summary(self) -> RelinkSummary:
        """Counts for the operator before anything is applied."""
        moved = self.moves
        return RelinkSummary(
            records=self.records,
            pairs_scored=self.pairs_scored,
            records_moving=len(moved),
            persons_losing_records=int(moved["from_person"].nunique()) if len(moved) else 0,
            new_persons=int(moved.loc[moved["new_person"], "to_person"].nunique())
            if len(moved)
            else 0,
            reviews=len(self.reviews) if self.reviews is not None else 0,
            id_conflict_groups=self.conflicts,
        )


def plan_relink(
    session: Session,
    model: FSModel,
    *,
    per_record: int = 20,
    pair_block: int = PAIR_BLOCK,
    single_block: int = SINGLE_BLOCK,
    chunk: int = SCORE_CHUNK,
    progress: Progress | None = None,
    hold_identities: bool = False,
) -> RelinkPlan:
    """Score the candidate pairs of live records and re-cluster them; nothing is written.

    Candidate pairs as linkage.blocking.pairs_sharing_most_keys gives them (two-key blocks
    of at most `pair_block` records, one-key blocks of at most `single_block`, `per_record`
    per record); they are scored a chunk at a time, keeping only those that could link. Two
    records that both carry a national ID are not compared: their IDs decide (one ID is one
    person, two never merge).

    hold_identities: take the identity lock (registry.matching.locks) before the snapshot
    and keep it to the commit, so that ingest and stewards change nothing the plan read
    until it is applied; required to apply the plan.
    """
    if hold_identities:
        lock_identities(session)
    report = progress or _silent
    report("reading", 0, 2)
    snapshot, keys = read_snapshot(session)
    report("reading", 2, 2)
    a, b = pairs_sharing_most_keys(
        keys,
        per_record=per_record,
        pair_block=pair_block,
        single_block=single_block,
        anchored=snapshot.nid >= 0,
        progress=lambda done, total: report("pairing", done, total),
    )
    del keys
    edges = _score(CodedScorer(snapshot.records, model), a, b, chunk, report)
    edges = edges.where(~refused_links(edges, snapshot, read_refusals(session, snapshot)))
    report("clustering", 0, 1)
    resolved = recluster(snapshot, edges, lambda: str(new_person_id()))
    target, persons, conflicts = resolved.target, resolved.persons, resolved.conflicts
    moves = _moves(snapshot, target, persons, edges)
    reviews = _reviews(snapshot, model, target, persons, edges)
    report("clustering", 1, 1)
    return RelinkPlan(len(snapshot), len(a), moves, reviews, conflicts, hold_identities)


def _silent(stage: str, done: int, total: int) -> None:
    """No progress display."""


def apply_relink(session: Session, plan: RelinkPlan, *, actor: str, model_id: int | None) -> None:
    """Move records (and their episodes and IDs) as planned; record every change as an event.

    The plan must have been made in this transaction with hold_identities: a plan read
    without the identity lock may be stale by now (a batch linked a record to a person it
    retires, a steward merged a person it moves records to).
    """
    if not plan.holds_identities:
        raise ValueError("apply a relink planned with hold_identities=True, in its transaction")
    moves = plan.moves
    if len(moves):
        rows = json.dumps(
            [
                {
                    "record_id": int(m.record_id),
                    "to_person": m.to_person,
                    "new_person": bool(m.new_person),
                    "score": None if pd.isna(m.score) else float(m.score),
                }
                for m in moves.itertuples(index=False)
            ]
        )
        session.execute(text(_APPLY_MOVES), {"rows": rows, "model_id": model_id})
        _record_events(session, moves, actor)
        touched = sorted({*moves["from_person"], *moves["to_person"]})
        refresh_golden_records(session, touched)
        main_target = (
            moves.groupby(["from_person", "to_person"])
            .size()
            .reset_index(name="n")
            .sort_values("n", ascending=False)
            .drop_duplicates("from_person")
        )
        retire = [
            {"from_person": r.from_person, "to_person": r.to_person}
            for r in main_target.itertuples(index=False)
        ]
        session.execute(text(_RETIRE_EMPTY), {"rows": json.dumps(retire)})
    reviews = plan.reviews.rows() if plan.reviews is not None else []
    if reviews:
        session.execute(text(_INSERT_REVIEWS), {"rows": json.dumps(reviews), "model_id": model_id})


_APPLY_MOVES = """
CREATE TEMP TABLE relink_stage ON COMMIT DROP AS
SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
    AS x(record_id bigint, to_person uuid, new_person boolean, score double precision);
INSERT INTO person (id) SELECT DISTINCT to_person FROM relink_stage WHERE new_person;
UPDATE source_record r SET person_id = s.to_person, link_method = 'probabilistic',
       link_score = s.score, link_model_id = :model_id, updated_at = now()
FROM relink_stage s WHERE r.id = s.record_id;
UPDATE enrolment e SET person_id = s.to_person
FROM relink_stage s WHERE e.source_record_id = s.record_id;
UPDATE person_identifier i SET person_id = r.person_id
FROM source_record r JOIN relink_stage s ON s.record_id = r.id
WHERE r.national_id_digest = i.digest;
"""

#: A person left without live records is retired into the person most of them went to.
_RETIRE_EMPTY = """
UPDATE person p SET status = 'merged', merged_into = x.to_person, updated_at = now()
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(from_person uuid, to_person uuid)
WHERE p.id = x.from_person AND p.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM source_record r WHERE r.person_id = p.id)
"""

_INSERT_REVIEWS = """
INSERT INTO match_candidate (source_record_id, candidate_person_id, candidate_record_id, reason,
                             score, weights, model_id)
SELECT x.record_id, x.person_id, x.candidate_record_id, 'relink', x.score, x.explanation,
       :model_id
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
    record_id bigint, person_id uuid, candidate_record_id bigint, score double precision,
    explanation jsonb)
JOIN person p ON p.id = x.person_id
ON CONFLICT DO NOTHING
"""


def _score(
    scorer: CodedScorer, a: np.ndarray, b: np.ndarray, chunk: int, report: Progress
) -> ScoredLinks:
    """Score all pairs a chunk at a time; keep those that could link."""
    kept: list[ScoredLinks] = []
    for start in range(0, len(a), chunk):
        pa, pb = a[start : start + chunk], b[start : start + chunk]
        scored = scorer.score_pairs(pa, pb)
        link = scored.decision == "link"
        keep = link | (scored.decision == "review")
        kept.append(ScoredLinks(pa[keep], pb[keep], scored.score[keep], link[keep]))
        report("scoring", min(start + chunk, len(a)), len(a))
    if not kept:
        empty = np.zeros(0, dtype=np.int64)
        return ScoredLinks(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    return ScoredLinks(
        np.concatenate([e.a for e in kept]),
        np.concatenate([e.b for e in kept]),
        np.concatenate([e.score for e in kept]),
        np.concatenate([e.link for e in kept]),
    )


def _moves(
    snapshot: RegistrySnapshot, target: np.ndarray, persons: np.ndarray, edges: ScoredLinks
) -> pd.DataFrame:
    """Records whose person changes, with their best score to a record of the new person."""
    changed = np.flatnonzero(target != snapshot.person)
    best = np.full(len(snapshot), np.nan)
    together = target[edges.a] == target[edges.b]
    for side in (edges.a, edges.b):
        np.fmax.at(best, side[together], edges.score[together])
    return pd.DataFrame(
        {
            "record_id": snapshot.records.ids[changed],
            "from_person": snapshot.persons[snapshot.person[changed]],
            "to_person": persons[target[changed]],
            "new_person": target[changed] >= len(snapshot.persons),
            "score": best[changed],
        }
    )


def _reviews(
    snapshot: RegistrySnapshot,
    model: FSModel,
    target: np.ndarray,
    persons: np.ndarray,
    edges: ScoredLinks,
) -> ReviewPairs:
    """Uncertain pairs that end up in different persons: the left record vs the right's person."""
    apart = np.flatnonzero(
        ~edges.link
        & (target[edges.a] != target[edges.b])
        & (target[edges.b] < len(snapshot.persons))
    )
    a, b = edges.a[apart], edges.b[apart]
    return ReviewPairs(snapshot.records, model, a, b, persons[target[b]])


def _record_events(session: Session, moves: pd.DataFrame, actor: str) -> None:
    """One 'relink' link event per (from person, to person) with the records moved."""
    events = [
        {
            "person_id": src,
            "other_person_id": dst,
            "ids": [int(x) for x in group["record_id"]],
        }
        for (src, dst), group in moves.groupby(["from_person", "to_person"])
    ]
    session.execute(
        text(
            "INSERT INTO link_event (kind, person_id, other_person_id, source_record_ids, actor, "
            "reason, details) SELECT 'relink', x.person_id, x.other_person_id, "
            "ARRAY(SELECT jsonb_array_elements_text(x.ids)::bigint), :actor, "
            "'relink with the active model', '{}'::jsonb "
            "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
            "AS x(person_id uuid, other_person_id uuid, ids jsonb)"
        ),
        {"rows": json.dumps(events), "actor": actor},
    )
