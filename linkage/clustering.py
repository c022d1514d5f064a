"""Clusters from pairwise links (connected components) and best-candidate selection."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
