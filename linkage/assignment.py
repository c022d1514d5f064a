"""Turn scored pairs into person assignments: link, review (provisional link) or new person.

Pure: no database. Input is the batch's unresolved records and two scored pair sets
(record vs existing registry record, and record vs record within the batch); output is one
assignment per record and the review items to queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkage.clustering import connected_components

LINKING = ("link", "review")


@dataclass(frozen=True)
class Assignment:
    """Where one batch record goes: a person (existing or the batch's new one), and why."""

    ord: int
    person_id: str
    method: str  # 'probabilistic' or 'new'
    score: float | None = None
    explanation: dict[str, Any] | None = None
    review: bool = False


@dataclass(frozen=True)
class ReviewItem:
    """A record and the person it may (or may not) belong to, for a steward to decide."""

    ord: int
    person_id: str
    reason: str  # 'uncertain' | 'national_id_conflict' | 'batch_conflict'
    score: float
    explanation: dict[str, Any]
    candidate_record_id: int | None = None
    candidate_ord: int | None = None


@dataclass
class _Attachment:
    person_id: str
    score: float
    decision: str
    explanation: dict[str, Any]
    record_id: int | None = None
    partner_ord: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def assign(
    batch: pd.DataFrame, external: pd.DataFrame, internal: pd.DataFrame
) -> tuple[list[Assignment], list[ReviewItem]]:
    """Assign every batch record (index ord; columns new_person_id, nid) to a person.

    external: ord, record_id, person_id, person_has_id, score, decision, explanation.
    internal: ord_l, ord_r, score, decision, explanation (pairs within the batch).
    """
    has_nid = batch["nid"].notna().to_dict()
    best, reviews = _best_external(external, has_nid)
    edges = internal[internal["decision"].isin(LINKING)] if len(internal) else internal
    components = _components(batch.index, best, edges)
    strongest = _strongest_edges(edges)
    assignments: list[Assignment] = []
    for members in components.values():
        if _consistent(members, best, batch):
            assignments.extend(_assign_together(members, best, strongest, batch))
        else:
            placed = _assign_apart(members, best, batch)
            assignments.extend(placed)
            reviews.extend(_batch_conflicts(members, edges, placed))
    reviews.extend(
        ReviewItem(
            a.ord,
            a.person_id,
            "uncertain",
            float(a.score or 0.0),
            a.explanation or {},
            candidate_record_id=best[a.ord].record_id if a.ord in best else None,
            candidate_ord=None if a.ord in best else strongest[a.ord].partner_ord,
        )
        for a in assignments
        if a.review
    )
    return sorted(assignments, key=lambda a: a.ord), reviews


def _best_external(
    external: pd.DataFrame, has_nid: dict[int, bool]
) -> tuple[dict[int, _Attachment], list[ReviewItem]]:
    """Per record, the best-scoring linkable person; ID conflicts become review items."""
    best: dict[int, _Attachment] = {}
    conflicts: list[ReviewItem] = []
    if not len(external):
        return best, conflicts
    ranked = external[external["decision"].isin(LINKING)].sort_values(
        ["ord", "score"], ascending=[True, False]
    )
    conflicted: set[int] = set()
    for row in ranked.itertuples(index=False):
        ord_ = int(row.ord)
        if ord_ in best or ord_ in conflicted:
            continue
        if has_nid.get(ord_) and bool(row.person_has_id):
            # Two different national IDs: never merged silently; a strong match is queued.
            if row.decision == "link":
                conflicts.append(
                    ReviewItem(
                        ord_,
                        str(row.person_id),
                        "national_id_conflict",
                        float(row.score),
                        row.explanation,
                        candidate_record_id=int(row.record_id),
                    )
                )
                conflicted.add(ord_)
            continue
        best[ord_] = _Attachment(
            str(row.person_id),
            float(row.score),
            str(row.decision),
            row.explanation,
            record_id=int(row.record_id),
        )
    return best, conflicts


def _components(
    ords: pd.Index, best: dict[int, _Attachment], edges: pd.DataFrame
) -> dict[Any, list[int]]:
    """Groups of batch records joined by batch links or by linking to the same person."""
    left = [f"o:{o}" for o in best]
    right = [f"p:{a.person_id}" for a in best.values()]
    if len(edges):
        left += [f"o:{int(x)}" for x in edges["ord_l"]]
        right += [f"o:{int(x)}" for x in edges["ord_r"]]
    nodes = pd.Index([f"o:{o}" for o in ords], dtype=object)
    labels = connected_components(
        np.asarray(left, dtype=object), np.asarray(right, dtype=object), nodes
    )
    groups: dict[Any, list[int]] = {}
    for node, label in labels.items():
        if str(node).startswith("o:"):
            groups.setdefault(label, []).append(int(str(node)[2:]))
    return groups


def _consistent(members: list[int], best: dict[int, _Attachment], batch: pd.DataFrame) -> bool:
    """One existing person at most, and no two different national IDs in the group."""
    persons = {best[o].person_id for o in members if o in best}
    nids = {batch.at[o, "nid"] for o in members if pd.notna(batch.at[o, "nid"])}
    return len(persons) <= 1 and len(nids) <= 1


def _assign_together(
    members: list[int],
    best: dict[int, _Attachment],
    strongest: dict[int, _Attachment],
    batch: pd.DataFrame,
) -> list[Assignment]:
    """The whole group joins its one existing person, or becomes one new person."""
    persons = {best[o].person_id for o in members if o in best}
    root = min(members)
    target = next(iter(persons)) if persons else str(batch.at[root, "new_person_id"])
    out = []
    for o in sorted(members):
        if not persons and o == root:
            out.append(Assignment(o, target, "new"))
            continue
        attachment = best.get(o) or strongest[o]
        out.append(
            Assignment(
                o,
                target,
                "probabilistic",
                attachment.score,
                attachment.explanation,
                review=attachment.decision == "review",
            )
        )
    return out


def _assign_apart(
    members: list[int], best: dict[int, _Attachment], batch: pd.DataFrame
) -> list[Assignment]:
    """A conflicting group: each record to its own best person, or to a new person."""
    out = []
    for o in sorted(members):
        a = best.get(o)
        if a is None:
            out.append(Assignment(o, str(batch.at[o, "new_person_id"]), "new"))
        else:
            out.append(
                Assignment(
                    o, a.person_id, "probabilistic", a.score, a.explanation, a.decision == "review"
                )
            )
    return out


def _batch_conflicts(
    members: list[int], edges: pd.DataFrame, placed: list[Assignment]
) -> list[ReviewItem]:
    """Batch links that the conflict resolution did not honour, queued for a steward."""
    person_of = {a.ord: a.person_id for a in placed}
    inside = edges[edges["ord_l"].isin(members)]
    return [
        ReviewItem(
            int(e.ord_l),
            person_of[int(e.ord_r)],
            "batch_conflict",
            float(e.score),
            e.explanation,
            candidate_ord=int(e.ord_r),
        )
        for e in inside.itertuples(index=False)
        if person_of[int(e.ord_l)] != person_of[int(e.ord_r)]
    ]


def _strongest_edges(edges: pd.DataFrame) -> dict[int, _Attachment]:
    """Per batch record, its highest-scoring batch link (partner and score)."""
    out: dict[int, _Attachment] = {}
    if not len(edges):
        return out
    ranked = edges.sort_values("score", ascending=False)
    for e in ranked.itertuples(index=False):
        for me, other in ((int(e.ord_l), int(e.ord_r)), (int(e.ord_r), int(e.ord_l))):
            if me not in out:
                out[me] = _Attachment(
                    "", float(e.score), str(e.decision), e.explanation, partner_ord=other
                )
    return out


def assign_one(
    ord_: int, new_person_id: str, has_nid: bool, external: list[dict[str, Any]]
) -> tuple[list[Assignment], list[ReviewItem]]:
    """assign() for a batch of one record, from score_record_candidates() rows, without pandas.

    No batch pairs exist, so the record joins its best linkable person (a national-ID
    conflict queued instead) or becomes a new person; the same assignment and review items
    as assign() gives.
    """
    ranked = sorted(
        (r for r in external if r["decision"] in LINKING), key=lambda r: -float(r["score"])
    )  # stable, as the frame path's (ord, score) sort
    best: dict[str, Any] | None = None
    reviews: list[ReviewItem] = []
    for row in ranked:
        if has_nid and bool(row["person_has_id"]):
            if row["decision"] == "link":
                reviews.append(
                    ReviewItem(
                        ord_,
                        str(row["person_id"]),
                        "national_id_conflict",
                        float(row["score"]),
                        row["explanation"],
                        candidate_record_id=int(row["record_id"]),
                    )
                )
                break
            continue
        best = row
        break
    if best is None:
        return [Assignment(ord_, new_person_id, "new")], reviews
    review = best["decision"] == "review"
    assignment = Assignment(
        ord_,
        str(best["person_id"]),
        "probabilistic",
        float(best["score"]),
        best["explanation"],
        review=review,
    )
    if review:
        reviews.append(
            ReviewItem(
                ord_,
                assignment.person_id,
                "uncertain",
                float(assignment.score or 0.0),
                assignment.explanation or {},
                candidate_record_id=int(best["record_id"]),
            )
        )
    return [assignment], reviews
