"""EM training on synthetic data, and clustering of pairwise links."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.blocking import candidate_pairs, keys_frame
from linkage.clustering import (
    best_per_left,
    clusters_from_links,
    connected_components,
    mutual_best,
)
from linkage.internals.compare import compare
from linkage.internals.model import decide
from linkage.internals.normalise import normalise_frame
from linkage.training import fit_em

GIVEN = ["Søren", "Mette", "Anders", "Kirsten", "Jens", "Hanne", "Lars", "Ayşe", "Łukasz", "Ida"]
FAMILY = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Ødegård", "Yılmaz", "Kowalski", "Møller"]


def synthetic(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n persons and one corrupted copy of each (typos, swaps, missing values)."""
    rng = np.random.default_rng(seed)
    given = [f"{GIVEN[i % 10]}{chr(97 + (i // 10) % 26)}" for i in rng.integers(0, 10**6, n)]
    family = [FAMILY[i] for i in rng.integers(0, len(FAMILY), n)]
    years = rng.integers(1930, 2010, n)
    months = rng.integers(1, 13, n)
    days = rng.integers(1, 29, n)
    dates = [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)]
    base = pd.DataFrame(
        {
            "given_name": given,
            "family_name": family,
            "birth_date": dates,
            "sex": rng.choice(["M", "F"], n),
            "region": rng.choice(["1081", "1082", "1083", "1084", "1085"], n),
            "municipality": [str(x) for x in rng.integers(100, 200, n)],
            "mother_name": [f"{GIVEN[i % 10]} {FAMILY[i % 8]}" for i in rng.integers(0, 80, n)],
        }
    )
    dup = base.copy()
    for i in range(n):
        kind = rng.integers(0, 6)
        if kind == 0:
            s = dup.at[i, "given_name"]
            dup.at[i, "given_name"] = s[:-1] + "x"
        elif kind == 1:
            y, m, d = dates[i].split("-")
            dup.at[i, "birth_date"] = f"{y}-{d}-{m}"
        elif kind == 2:
            dup.at[i, "given_name"], dup.at[i, "family_name"] = family[i], given[i]
        elif kind == 3:
            dup.at[i, "municipality"] = None
    base.index = pd.Index([f"a{i}" for i in range(n)])
    dup.index = pd.Index([f"b{i}" for i in range(n)])
    return base, dup


def test_em_learns_weights_and_links_synthetic_duplicates() -> None:
    a, b = synthetic(1500)
    pairs = candidate_pairs(
        keys_frame(a.to_dict("records"), a.index), keys_frame(b.to_dict("records"), b.index)
    )
    truth = pd.MultiIndex.from_arrays([a.index, b.index])
    assert len(pairs.intersection(truth)) == len(truth)
    comparison = compare(pairs, normalise_frame(a), normalise_frame(b))
    model = fit_em(comparison)
    for f in model.fields:
        assert f.weights()[-1] > 0, f.name  # exact agreement is evidence for a match
    assert model.fields[0].weights()[0] < 0  # different given names count against
    result = decide(model, comparison)
    linked = result.index[result["decision"] == "link"]
    tp = len(linked.intersection(truth))
    precision, recall = tp / len(linked), tp / len(truth)
    assert precision > 0.97 and recall > 0.95, (precision, recall)


def test_connected_components() -> None:
    labels = connected_components(
        np.array(["a", "b", "d", "x"]), np.array(["b", "c", "e", "x"]), pd.Index(["z"])
    )
    assert labels["a"] == labels["b"] == labels["c"]
    assert labels["d"] == labels["e"] != labels["a"]
    assert len({labels["z"], labels["a"], labels["d"], labels["x"]}) == 4


def test_connected_components_long_chain() -> None:
    n = 5000
    ids = np.arange(n)
    rng = np.random.default_rng(1)
    order = rng.permutation(n - 1)
    labels = connected_components(ids[order], ids[order + 1])
    assert labels.nunique() == 1


def test_clusters_from_links_and_best_candidates() -> None:
    links = pd.MultiIndex.from_tuples([(1, 2), (3, 4)])
    assert clusters_from_links(links).nunique() == 2
    scores = pd.Series(
        [9.0, 12.0, 11.0, 5.0],
        index=pd.MultiIndex.from_tuples([("r1", "p1"), ("r1", "p2"), ("r2", "p2"), ("r2", "p3")]),
    )
    assert list(best_per_left(scores).index) == [("r1", "p2"), ("r2", "p2")]
    assert list(mutual_best(scores).index) == [("r1", "p2")]
