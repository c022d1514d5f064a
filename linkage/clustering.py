"""Clusters from pairwise links: connected components, best candidates, registry re-clustering.

`recluster` resolves a whole registry's scored links into persons (the relink): links,
shared national IDs and steward holds join records; each group keeps its majority person,
contested persons go to one group only, and groups holding two national IDs stay as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from linkage.internals.pairing import distinct


def connected_components(
    left: np.ndarray | pd.Index, right: np.ndarray | pd.Index, nodes: pd.Index | None = None
) -> pd.Series:
    """Cluster label (smallest member's position) per node, given linked id pairs."""
    left_arr = np.asarray(left, dtype=object)
    right_arr = np.asarray(right, dtype=object)
    all_ids = pd.Index(np.concatenate([left_arr, right_arr])).unique()
    index = all_ids if nodes is None else nodes.append(all_ids.difference(nodes))
    labels = components(len(index), index.get_indexer(left_arr), index.get_indexer(right_arr))
    return pd.Series(labels, index=index, name="cluster")


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per node 0..n-1, the smallest node of its connected component (edges left-right)."""
    a = np.asarray(left, dtype=np.int64)
    b = np.asarray(right, dtype=np.int64)
    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
        if not (lo != hi).any():
            break
        np.minimum.at(parent, hi, lo)  # hook the larger root under the smaller
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if (grand == parent).all():
                break
            parent = grand
    return parent


def clusters_from_links(links: pd.MultiIndex, nodes: pd.Index | None = None) -> pd.Series:
    """Cluster label per record from linked pairs (a MultiIndex of id pairs)."""
    return connected_components(links.get_level_values(0), links.get_level_values(1), nodes)


def best_per_left(scores: pd.Series) -> pd.Series:
    """Keep, for each left id, only its highest-scoring pair (ties: first)."""
    if scores.empty:
        return scores
    left = scores.index.get_level_values(0)
    frame = pd.DataFrame({"left": left, "score": scores.to_numpy()})
    keep = frame.groupby("left", sort=False)["score"].idxmax().to_numpy()
    return scores.iloc[np.sort(keep)]


def mutual_best(scores: pd.Series) -> pd.Series:
    """Keep pairs that are the best for both their left and their right id (one-to-one)."""
    if scores.empty:
        return scores
    frame = pd.DataFrame(
        {
            "left": scores.index.get_level_values(0),
            "right": scores.index.get_level_values(1),
            "score": scores.to_numpy(),
        }
    )
    best_l = frame.groupby("left", sort=False)["score"].transform("max").to_numpy()
    best_r = frame.groupby("right", sort=False)["score"].transform("max").to_numpy()
    sv = frame["score"].to_numpy()
    return scores[(sv >= best_l) & (sv >= best_r)]


class Placement(Protocol):
    """Where a registry's records are now, by record position (ascending id)."""

    @property
    def person(self) -> np.ndarray:
        """int code per position into `persons`."""

    @property
    def persons(self) -> np.ndarray:
        """Person identifiers (str)."""

    @property
    def nid(self) -> np.ndarray:
        """int code of the national ID per position, -1 without one."""

    @property
    def held(self) -> np.ndarray:
        """bool: a steward holds the record in its person."""

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Reclustering:
    """Person code per record (into persons; new ones appended) and the ID-conflict groups."""

    target: np.ndarray
    persons: np.ndarray
    conflicts: int


def recluster(
    placement: Placement, links: ScoredLinks, new_person: Callable[[], str]
) -> Reclustering:
    """Resolve scored links (with national IDs and holds) into persons; new_person names one."""
    labels = components(len(placement), *_link_edges(placement, links))
    return Reclustering(*_targets(placement, labels, new_person))


@dataclass(frozen=True)
class ScoredLinks:
    """Scored pairs that could link (decision link or review), by record position."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    link: np.ndarray  # bool: decision 'link' (else 'review')

    def where(self, keep: np.ndarray) -> ScoredLinks:
        """The links where keep is true."""
        return ScoredLinks(self.a[keep], self.b[keep], self.score[keep], self.link[keep])


def refused_links(edges: ScoredLinks, placement: Placement, refusals: np.ndarray) -> np.ndarray:
    """Pairs a steward has declared a non-match (one record vs the other's person)."""
    if not len(refusals) or not len(edges.a):
        return np.zeros(len(edges.a), dtype=bool)
    persons = np.int64(len(placement.persons))
    person = placement.person
    forward = edges.a.astype(np.int64) * persons + person[edges.b]
    backward = edges.b.astype(np.int64) * persons + person[edges.a]
    return np.isin(forward, refusals) | np.isin(backward, refusals)


def _link_edges(placement: Placement, edges: ScoredLinks) -> tuple[np.ndarray, np.ndarray]:
    """Links: scored links, shared national IDs, and records a steward holds in place."""
    position = np.arange(len(placement))
    with_id = position[placement.nid >= 0]
    id_anchor = _first_of_group(placement.nid[with_id], with_id)
    held = position[placement.held]
    person_anchor = _first_of_group(placement.person, position)
    left = np.concatenate([edges.a[edges.link], with_id, held])
    right = np.concatenate([edges.b[edges.link], id_anchor, person_anchor[held]])
    return left, right


def _first_of_group(group: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Per row, the smallest position sharing its group code (rows given by position)."""
    if not len(group):
        return position
    _, first_index, inverse = np.unique(group, return_index=True, return_inverse=True)
    return position[first_index][inverse]


def _targets(
    placement: Placement, labels: np.ndarray, new_person: Callable[[], str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Person code per record, the person UUIDs (new ones appended), ID-conflict groups.

    Each group keeps its majority person (ties: the person of its first record). Groups
    whose persons appear in no other group (nearly all) take it in one vectorised step; only
    groups sharing a person with another group, or holding two national IDs, go through the
    greedy pass (largest group first; a person goes to one group only); ID conflicts stay.
    """
    person, nid = placement.person, placement.nid
    conflict = _groups_with_several(labels[nid >= 0], nid[nid >= 0])
    spanning = _groups_with_several(person, labels)
    hard_groups = distinct(np.concatenate([labels[np.isin(person, spanning)], conflict]))
    hard = np.isin(labels, hard_groups)
    target = person.copy()
    easy = np.flatnonzero(~hard)
    if len(easy):
        target[easy] = _majority(labels[easy], person[easy])
    persons = list(placement.persons)
    conflicts = _assign_greedily(
        np.flatnonzero(hard), labels, placement, target, persons, new_person
    )
    return target, np.asarray(persons, dtype=object), conflicts


def _groups_with_several(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The groups holding more than one distinct value."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    size = np.int64(value.max()) + 1
    pairs = distinct(group.astype(np.int64) * size + value)
    groups, counts = np.unique(pairs // size, return_counts=True)
    return groups[counts > 1]


def _majority(group: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Per row, its group's most frequent person (ties: the one seen first)."""
    frame = pd.DataFrame({"group": group, "person": person, "pos": np.arange(len(group))})
    top = (
        frame.groupby(["group", "person"], sort=False)
        .agg(n=("pos", "size"), first=("pos", "min"))
        .reset_index()
        .sort_values(["group", "n", "first"], ascending=[True, False, True])
        .drop_duplicates("group")
        .set_index("group")["person"]
    )
    return top.loc[group].to_numpy(dtype=np.int32)


def _assign_greedily(
    rows: np.ndarray,
    labels: np.ndarray,
    placement: Placement,
    target: np.ndarray,
    persons: list[str],
    new_person: Callable[[], str],
) -> int:
    """The contested groups, largest first, into target; the number of ID-conflict groups."""
    if not len(rows):
        return 0
    group = labels[rows]
    order = np.lexsort((rows, group))  # by group, members in position order
    rows, group = rows[order], group[order]
    nid = placement.nid[rows]
    conflicted = set(_groups_with_several(group[nid >= 0], nid[nid >= 0]).tolist())
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    members_person = placement.person[rows].tolist()
    # ID-conflict groups stay where they are: their persons are taken before any other group
    # picks one (a group picking first would join its ID to the one the conflict keeps)
    in_conflict = [k for k, start in enumerate(starts.tolist()) if int(group[start]) in conflicted]
    claimed: set[int] = set()
    for k in in_conflict:
        claimed.update(members_person[int(starts[k]) : int(ends[k])])
    for k in np.argsort(starts - ends, kind="stable").tolist():  # largest group first
        start, end = int(starts[k]), int(ends[k])
        members = members_person[start:end]
        if int(group[start]) in conflicted:
            continue
        ranked = Counter(members).most_common()
        person = next((p for p, _ in ranked if p not in claimed), None)
        if person is None:
            person = len(persons)
            persons.append(new_person())
        claimed.add(person)
        target[rows[start:end]] = person
    return len(in_conflict)
