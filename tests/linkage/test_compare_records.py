"""The pandas-free scoring of a few pairs (single-record ingest) agrees bit for bit."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from linkage.inference import score_pairs, score_record_pairs
from linkage.internals.model import FSModel, default_model
from linkage.training import fit_term_frequencies

GIVEN = ["soren", "sorem", "anne", "ane", "mette", "met", "jens", "jenz", "kirsten", "ib"]
FAMILY = ["jensen", "jensn", "hansen", "hanssen", "nielsen", "nilsen", "pedersen", "o"]
MOTHER = ["karen jensen", "karen jensn", "inge hansen", "lise", "lise nielsen"]
DATES = [
    "1940-03-14",
    "1940-14-03",
    "1940-03-15",
    "1941-03-14",
    "1942-03-14",
    "1950-07-01",
    "1940-01-03",
    "1900-01-01",
    "1940-3-1",
    "19400314",
    "x940-03-14",
]
NAMES = ["given_name", "family_name", "birth_date", "sex", "region", "municipality", "mother_name"]


def _maybe(rng: random.Random, values: list[Any], missing: float = 0.1) -> Any:
    return None if rng.random() < missing else rng.choice(values)


def _record(rng: random.Random) -> dict[str, Any]:
    return {
        "given_name": _maybe(rng, GIVEN),
        "family_name": _maybe(rng, FAMILY),
        "birth_date": _maybe(rng, DATES),
        "sex": _maybe(rng, ["m", "f", "M"]),
        "region": _maybe(rng, ["1084", "1085"]),
        "municipality": _maybe(rng, ["101", "147", "751"]),
        "mother_name": _maybe(rng, MOTHER, 0.3),
    }


def _similar(rng: random.Random, left: dict[str, Any]) -> dict[str, Any]:
    """A right record near the left one: copied fields, some changed, names maybe swapped."""
    right = {k: (v if rng.random() < 0.7 else _record(rng)[k]) for k, v in left.items()}
    if rng.random() < 0.2:
        right["given_name"], right["family_name"] = right["family_name"], right["given_name"]
    return right


def _tf_model() -> FSModel:
    values = {
        "given_name": pd.Series(["soren"] * 30 + ["anne"] * 20 + GIVEN),
        "family_name": pd.Series(["jensen"] * 40 + ["hansen"] * 10 + FAMILY),
    }
    model = fit_term_frequencies(default_model(), values)
    model.upper, model.lower = 6.0, 1.0  # more decisions of each kind
    return model


@pytest.mark.parametrize("model", [default_model(), _tf_model()], ids=["default", "tf"])
def test_score_record_pairs_matches_score_pairs_bit_for_bit(model: FSModel) -> None:
    rng = random.Random(20261125)
    pairs = []
    for _ in range(3000):
        left = _record(rng)
        pairs.append((left, _similar(rng, left) if rng.random() < 0.7 else _record(rng)))
    left_frame = pd.DataFrame([p[0] for p in pairs], index=range(len(pairs)))
    right_frame = pd.DataFrame([p[1] for p in pairs], index=range(len(pairs)))
    index = pd.MultiIndex.from_arrays([np.arange(len(pairs)), np.arange(len(pairs))])
    # the direct (small) comparison path, as the ingest path takes it for a few pairs
    expected = score_pairs(index, left_frame, right_frame, model, normalised=True)
    got = score_record_pairs(pairs, model)

    assert np.array_equal(got.levels, expected[NAMES].to_numpy(dtype=np.int8))
    for f in model.fields:
        assert np.array_equal(got.weights[f.name], expected["w_" + f.name].to_numpy())
    assert np.array_equal(got.score, expected["score"].to_numpy())
    assert np.array_equal(got.probability, expected["probability"].to_numpy())
    assert got.decision == list(expected["decision"])
    assert got.veto == list(expected["veto"])
    # the sample reaches every decision, a veto, swapped names and term-frequency discounts
    assert set(got.decision) == {"link", "review", "new"}
    assert {"twins", "names_differ"} <= set(got.veto)
    assert (got.levels == -1).any()


def test_score_record_pairs_of_one_pair_and_of_none() -> None:
    model = default_model()
    left = {"given_name": "soren", "family_name": "jensen", "birth_date": "1940-03-14"}
    one = score_record_pairs([(left, dict(left))], model)
    assert one.decision == ["link"] and one.levels[0, 0] == 4
    none = score_record_pairs([], model)
    assert none.score.shape == (0,) and none.decision == []
