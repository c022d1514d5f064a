"""Re-score the whole registry with a model: plan what would change, then apply it."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage.blocking import candidate_pairs
from linkage.cluster import connected_components
from linkage.model import FSModel
from linkage.pipeline import score_pairs
from registry.matching.scoring import explanations
from registry.matching.training import copy_frame, load_records
from registry.persons.golden import refresh_golden_records

Progress = Callable[[int, int], None]

_CURRENT = """
SELECT r.id, r.person_id::text AS person_id,
       r.link_method = 'manual'
       OR EXISTS (SELECT 1 FROM match_candidate m WHERE m.source_record_id = r.id
                  AND m.status = 'pending' AND m.candidate_person_id = r.person_id) AS held
FROM source_record r WHERE NOT r.retracted
"""
_NON_MATCHES = """
SELECT source_record_id, candidate_person_id::text FROM match_candidate WHERE status = 'non_match'
"""
_KEYS = "SELECT key, source_record_id AS id FROM blocking_key"


@dataclass
class RelinkPlan:
    """What a relink would change: record moves, new persons, reviews, unresolved conflicts."""

    records: int
    pairs_scored: int
    moves: pd.DataFrame  # record_id, from_person, to_person, new_person, score
    reviews: list[dict[str, Any]] = field(default_factory=list)
    conflicts: int = 0

    def summary(self) -> dict[str, int]:
        """Counts for the operator before anything is applied."""
        moved = self.moves
        return {
            "records": self.records,
            "pairs_scored": self.pairs_scored,
            "records_moving": len(moved),
            "persons_losing_records": int(moved["from_person"].nunique()) if len(moved) else 0,
            "new_persons": int(moved.loc[moved["new_person"], "to_person"].nunique())
            if len(moved)
            else 0,
            "reviews": len(self.reviews),
            "id_conflict_groups": self.conflicts,
        }


def plan_relink(
    session: Session,
    model: FSModel,
    *,
    max_block: int = 500,
    per_record: int | None = None,
    chunk: int = 200_000,
    progress: Progress | None = None,
) -> RelinkPlan:
    """Score every blocked pair of live records and re-cluster; nothing is written."""
    records = load_records(session)
    current = copy_frame(session, _CURRENT, index="id")
    current["held"] = current["held"] == "t"
    records = records.join(current, how="inner")
    keys = copy_frame(session, _KEYS)
    keys["id"] = keys["id"].astype(np.int64)
    pairs = candidate_pairs(
        keys[keys["id"].isin(records.index)], max_block=max_block, per_record=per_record
    )
    refused = {(int(r), p) for r, p in session.execute(text(_NON_MATCHES)).all()}
    scored = _score_in_chunks(pairs, records, model, chunk, progress)
    scored = _drop_refused(scored, records, refused)
    links = scored[scored["decision"] == "link"]
    edges_l, edges_r = _edges(records, links)
    labels = connected_components(edges_l, edges_r, pd.Index(records.index, dtype=object))
    labels = labels.loc[records.index]
    target, conflicts = _targets(records, labels)
    moves = _moves(records, target, scored)
    reviews = _reviews(scored, records, target)
    return RelinkPlan(len(records), len(scored), moves, reviews, conflicts)


def apply_relink(session: Session, plan: RelinkPlan, *, actor: str, model_id: int | None) -> None:
    """Move records (and their episodes and IDs) as planned; record every change as an event."""
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
    if plan.reviews:
        session.execute(
            text(_INSERT_REVIEWS), {"rows": json.dumps(plan.reviews), "model_id": model_id}
        )


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


def _score_in_chunks(
    pairs: pd.MultiIndex,
    records: pd.DataFrame,
    model: FSModel,
    chunk: int,
    progress: Progress | None,
) -> pd.DataFrame:
    """Score all pairs, a chunk at a time (bounded memory, visible progress)."""
    parts = []
    for start in range(0, len(pairs), chunk):
        part = pairs[start : start + chunk]
        parts.append(score_pairs(part, records, None, model, normalised=True))
        if progress:
            progress(min(start + chunk, len(pairs)), len(pairs))
    if not parts:
        return pd.DataFrame(columns=["score", "decision"])
    return pd.concat(parts)


def _drop_refused(
    scored: pd.DataFrame, records: pd.DataFrame, refused: set[tuple[int, str]]
) -> pd.DataFrame:
    """Remove pairs a steward has already declared a non-match (record vs person)."""
    if not refused or not len(scored):
        return scored
    left = scored.index.get_level_values(0)
    right = scored.index.get_level_values(1)
    person = records["person_id"]
    keep = [
        (int(a), person.at[b]) not in refused and (int(b), person.at[a]) not in refused
        for a, b in zip(left, right, strict=True)
    ]
    return scored[np.asarray(keep, dtype=bool)]


def _edges(records: pd.DataFrame, links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Link edges: scored links, shared national IDs, and records a steward holds in place."""
    with_id = records[records["nid"].notna()]
    id_anchor = with_id.reset_index().groupby("nid")["id"].transform("min").to_numpy()
    held = records[records["held"]]
    person_anchor = records.reset_index().groupby("person_id")["id"].min()
    left = [
        links.index.get_level_values(0).to_numpy(),
        with_id.index.to_numpy(),
        held.index.to_numpy(),
    ]
    right = [
        links.index.get_level_values(1).to_numpy(),
        id_anchor,
        person_anchor.loc[held["person_id"]].to_numpy(),
    ]
    return np.concatenate(left).astype(object), np.concatenate(right).astype(object)


def _targets(records: pd.DataFrame, labels: pd.Series) -> tuple[pd.Series, int]:
    """Person per record: each group keeps its majority person; ID conflicts stay as they are.

    Groups whose persons appear in no other group (nearly all) take their majority person
    in one vectorised step; only groups sharing a person with another group, or holding two
    national IDs, go through the greedy pass (largest group first; a person goes to one
    group only).
    """
    frame = pd.DataFrame(
        {
            "group": labels.to_numpy(),
            "person": records["person_id"].to_numpy(),
            "nid": records["nid"].to_numpy(),
            "pos": np.arange(len(records)),
        },
        index=records.index,
    )
    conflict = frame.groupby("group")["nid"].nunique() > 1
    groups_per_person = frame.groupby("person")["group"].nunique()
    spanning = groups_per_person.index[groups_per_person > 1]
    hard_groups = set(frame.loc[frame["person"].isin(spanning), "group"]) | set(
        conflict.index[conflict.to_numpy()]
    )
    hard = frame["group"].isin(hard_groups).to_numpy()
    target = records["person_id"].copy()
    easy = frame[~hard]
    if len(easy):
        top = (
            easy.groupby(["group", "person"])
            .agg(n=("pos", "size"), first=("pos", "min"))
            .reset_index()
            .sort_values(["group", "n", "first"], ascending=[True, False, True])
            .drop_duplicates("group")
            .set_index("group")["person"]
        )
        target.loc[easy.index] = top.loc[easy["group"].to_numpy()].to_numpy()
    return target, _assign_greedily(frame[hard], target)


def _assign_greedily(frame: pd.DataFrame, target: pd.Series) -> int:
    """The contested groups, largest first, into target; the number of ID-conflict groups."""
    conflicts = 0
    claimed: dict[str, int] = {}
    groups = sorted(frame.groupby("group"), key=lambda g: -len(g[1]))
    for _, members in groups:
        if members["nid"].nunique() > 1:
            conflicts += 1
            for person in members["person"].unique():
                claimed.setdefault(person, -1)
            continue
        ranked = Counter(members["person"]).most_common()
        person = next((p for p, _ in ranked if p not in claimed), None)
        if person is None:
            person = str(uuid.uuid4())
        claimed[person] = 1
        target.loc[members.index] = person
    return conflicts


def _moves(records: pd.DataFrame, target: pd.Series, scored: pd.DataFrame) -> pd.DataFrame:
    """Records whose person changes, with their best score to a record of the new person."""
    changed = records.index[target.to_numpy() != records["person_id"].to_numpy()]
    existing = set(records["person_id"])
    best = pd.Series(dtype=float)
    if len(scored):
        left = scored.index.get_level_values(0).to_numpy()
        right = scored.index.get_level_values(1).to_numpy()
        same = target.loc[left].to_numpy() == target.loc[right].to_numpy()
        values = scored["score"].to_numpy(dtype=float)[same]
        best = (
            pd.concat([pd.Series(values, index=left[same]), pd.Series(values, index=right[same])])
            .groupby(level=0)
            .max()
        )
    return pd.DataFrame(
        {
            "record_id": changed.to_numpy(),
            "from_person": records.loc[changed, "person_id"].to_numpy(),
            "to_person": target.loc[changed].to_numpy(),
            "new_person": [t not in existing for t in target.loc[changed]],
            "score": best.reindex(changed).to_numpy(dtype=float),
        }
    )


def _reviews(
    scored: pd.DataFrame, records: pd.DataFrame, target: pd.Series
) -> list[dict[str, Any]]:
    """Uncertain pairs that end up in different persons: the left record vs the right's person."""
    uncertain = scored[scored["decision"] == "review"]
    if not len(uncertain):
        return []
    left = uncertain.index.get_level_values(0).to_numpy()
    right = uncertain.index.get_level_values(1).to_numpy()
    apart = np.flatnonzero(target.loc[left].to_numpy() != target.loc[right].to_numpy())
    existing = set(records["person_id"])
    notes = explanations(uncertain, apart)
    return [
        {
            "record_id": int(left[i]),
            "person_id": target.at[right[i]],
            "candidate_record_id": int(right[i]),
            "score": float(uncertain["score"].iat[i]),
            "explanation": note,
        }
        for i, note in zip(apart, notes, strict=True)
        if target.at[right[i]] in existing
    ]


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
