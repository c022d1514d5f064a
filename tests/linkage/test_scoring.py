"""Comparison levels, Fellegi-Sunter scoring and decisions on hard cases."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from linkage.inference import score_pairs
from linkage.internals.compare import (
    PERSON_CONFIG,
    compare,
    date_levels,
    jaro_winkler,
    string_levels,
)
from linkage.internals.model import FSModel, default_model, field_weights, score
from linkage.training import fit_term_frequencies

PERSON: dict[str, Any] = {
    "given_name": "Søren",
    "family_name": "Ødegård",
    "birth_date": "1940-03-14",
    "sex": "M",
    "region": "1084",
    "municipality": "101",
    "mother_name": "Karen Ødegård",
}


def run(left: dict[str, Any], right: dict[str, Any], model: FSModel | None = None) -> pd.Series:
    """Score one pair of raw records and return its result row."""
    pairs = pd.MultiIndex.from_tuples([("l", "r")])
    result = score_pairs(
        pairs,
        pd.DataFrame([left], index=["l"]),
        pd.DataFrame([right], index=["r"]),
        model or default_model(),
    )
    return result.iloc[0]


def test_same_person_in_other_spelling_links() -> None:
    row = run(PERSON, {**PERSON, "given_name": "SOEREN", "family_name": "OEDEGAARD"})
    assert row["given_name"] == 4 and row["family_name"] == 4
    assert row["decision"] == "link"


def test_swapped_given_and_family_names_link() -> None:
    row = run(PERSON, {**PERSON, "given_name": "Ødegård", "family_name": "Søren"})
    assert row["decision"] == "link"
    straight = run(PERSON, PERSON)
    assert row["score"] == pytest.approx(straight["score"])


def test_day_month_swap_scores_well_above_a_non_match() -> None:
    swapped = run(PERSON, {**PERSON, "birth_date": "1940-14-03"})  # read as 1940-03-14
    swapped2 = run(PERSON, {**PERSON, "birth_date": "1940-12-03"})  # not recognisable
    swapped3 = run({**PERSON, "birth_date": "1940-03-04"}, {**PERSON, "birth_date": "1940-04-03"})
    other_date = run({**PERSON, "birth_date": "1940-03-04"}, {**PERSON, "birth_date": "1967-09-21"})
    assert swapped["birth_date"] == 4 and swapped3["birth_date"] == 3
    assert swapped3["w_birth_date"] > other_date["w_birth_date"] + 10
    assert swapped3["score"] > other_date["score"] + 10
    assert swapped3["decision"] == "link"
    assert swapped2["birth_date"] in (1, 2)


def test_twins_are_not_linked() -> None:
    twin = {**PERSON, "given_name": "Mikkel"}
    row = run(PERSON, twin)
    assert row["decision"] == "new"
    assert row["veto"] == "twins"
    assert row["w_given_name"] < 0


def test_parent_and_child_of_same_name_are_not_linked() -> None:
    father = {**PERSON, "birth_date": "1940-03-14", "mother_name": "Karen Ødegård"}
    son = {**PERSON, "birth_date": "1968-11-02", "mother_name": "Inger Ødegård"}
    row = run(father, son)
    assert row["decision"] == "new"
    assert row["w_birth_date"] < -5


def test_unrelated_people_are_new() -> None:
    other = {
        "given_name": "Fatma",
        "family_name": "Yılmaz",
        "birth_date": "1985-06-30",
        "sex": "F",
        "region": "1085",
        "municipality": "147",
        "mother_name": "Ayşe Yılmaz",
    }
    row = run(PERSON, other)
    assert row["decision"] == "new"
    assert row["score"] < 0


def test_typo_in_name_still_links() -> None:
    row = run(PERSON, {**PERSON, "given_name": "Sørem", "municipality": None, "sex": None})
    assert row["decision"] == "link"


def test_levels_are_discrete_with_missing() -> None:
    sim = jaro_winkler(pd.Series(["soren", None, "anna"]), pd.Series(["soren", "x", "anne"]))
    assert sim[0] == 1.0 and np.isnan(sim[1]) and 0.8 < sim[2] < 1.0
    assert list(string_levels(sim, (0.94, 0.88, 0.75))) == [4, -1, 2]
    lv = date_levels(
        pd.Series(["1940-03-14", "1940-03-04", "1940-03-14", "1940-03-14", "1940-03-14", None]),
        pd.Series(["1940-03-14", "1940-04-03", "1940-03-15", "1941-05-01", "1977-01-01", "x"]),
    )
    assert list(lv) == [4, 3, 2, 1, 0, -1]


def test_compare_is_vectorised_over_many_pairs() -> None:
    n = 2000
    left = pd.DataFrame([PERSON] * n, index=range(n))
    from linkage.internals.normalise import normalise_frame

    norm = normalise_frame(left)
    pairs = pd.MultiIndex.from_arrays([np.arange(n), np.roll(np.arange(n), 1)])
    out = compare(pairs, norm, norm, PERSON_CONFIG)
    assert len(out) == n and (out["given_name"] == 4).all()


def test_term_frequency_lowers_weight_of_common_names() -> None:
    names = pd.Series(["hansen"] * 100 + [f"rare{i}" for i in range(900)])
    model = fit_term_frequencies(default_model(), {"family_name": names})
    comparison = pd.DataFrame(
        {
            "family_name": [4, 4],
            "tf_family_name": ["hansen", "odegard"],
            **{f.name: [-1, -1] for f in model.fields if f.name != "family_name"},
        }
    )
    w = field_weights(model, comparison)["family_name"]
    assert w[0] < w[1] - 3  # log2(0.0109 / 0.1) = -3.2 bits


def test_model_round_trips_through_json() -> None:
    model = fit_term_frequencies(
        default_model(), {"given_name": pd.Series(["soren"] * 10 + ["anna"] * 2 + ["x"])}
    )
    data = json.loads(json.dumps(model.to_dict()))
    assert data["version"] == 1
    again = FSModel.from_dict(data)
    comparison = compare(
        pd.MultiIndex.from_tuples([(0, 0)]),
        pd.DataFrame([{**PERSON, "given_name": "soren", "family_name": "odegard"}]),
    )
    assert score(again, comparison).iloc[0] == pytest.approx(score(model, comparison).iloc[0])
    with pytest.raises(ValueError):
        FSModel.from_dict({**data, "version": 99})


def test_direct_gathering_equals_recordlinkage_compare() -> None:
    """The small-batch path (columns gathered directly) gives recordlinkage's exact levels."""
    rng = np.random.default_rng(3)
    names = ["anna", "ana", "jens", "jensen", "hansen", "hanssen", None, "nielsen", "mette"]
    dates = ["1980-03-04", "1980-04-03", "1981-03-04", "1990-12-01", None, "1980-03-05"]
    n = 60

    def frame(offset: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "given_name": rng.choice(np.array(names, dtype=object), n),
                "family_name": rng.choice(np.array(names, dtype=object), n),
                "birth_date": rng.choice(np.array(dates, dtype=object), n),
                "sex": rng.choice(np.array(["F", "M", None], dtype=object), n),
                "region": rng.choice(np.array(["1081", "1082", None], dtype=object), n),
                "municipality": rng.choice(np.array(["101", "147"], dtype=object), n),
                "mother_name": rng.choice(np.array(names, dtype=object), n),
            },
            index=pd.Index(range(offset, offset + n)),
        )

    left, right = frame(0), frame(1000)
    pairs = pd.MultiIndex.from_arrays([rng.integers(0, n, 400), rng.integers(1000, 1000 + n, 400)])
    direct = compare(pairs, left, right, direct=True)
    via_recordlinkage = compare(pairs, left, right, direct=False)
    pd.testing.assert_frame_equal(direct, via_recordlinkage)
    assert direct["given_name"].nunique() > 2 and direct["birth_date"].nunique() > 2


def test_jaro_winkler_matches_the_reference_implementation() -> None:
    """The vectorised (rapidfuzz) similarity equals jellyfish's, pair by pair."""
    from jellyfish import jaro_winkler_similarity

    names = [
        "martha",
        "marhta",
        "dwayne",
        "duane",
        "dixon",
        "dicksonx",
        "jensen",
        "jenssen",
        "søren",
        "soeren",
        "ali",
        "aliye",
        "a",
        "b",
        "hansen",
        "hansen",
    ]
    left = pd.Series(names)
    right = pd.Series(names[1:] + names[:1])
    got = jaro_winkler(left, right)
    expected = [
        jaro_winkler_similarity(a, b) for a, b in zip(names, names[1:] + names[:1], strict=True)
    ]
    np.testing.assert_allclose(got, expected, atol=1e-7)
    assert got[0] > 0.95 and got[12] == 0.0
