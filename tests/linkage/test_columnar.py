"""The coded scorer (batch relink) decides exactly as the frame pipeline (ingest) does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linkage.inference import score_pairs
from linkage.internals.columnar import CodedScorer, code_records
from linkage.internals.model import default_model
from linkage.internals.normalise import normalise_frame
from linkage.training import fit_term_frequencies
from registry.demo.population import (
    Noise,
    demo_programmes,
    generate_feeds,
    generate_persons,
)
from registry.persons.golden import PERSON_FIELDS

SWAPS = 60


@pytest.fixture(scope="module")
def raw_records() -> pd.DataFrame:
    """Noisy records of 400 persons (typos, missing fields), then 60 with names swapped."""
    persons = generate_persons(400, seed=5)
    feeds = generate_feeds(persons, demo_programmes(), Noise.demo(), seed=5)
    rows = [{f: r.get(f) for f in PERSON_FIELDS} for rs in feeds.records.values() for r in rs]
    rows += [
        {**r, "given_name": r["family_name"], "family_name": r["given_name"]} for r in rows[:SWAPS]
    ]
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="id")
    return frame


def _pairs(n: int, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs, every record against its neighbour, and the name-swapped copies."""
    a = np.concatenate([rng.integers(0, n, count), np.arange(n - 1), np.arange(SWAPS)])
    b = np.concatenate([rng.integers(0, n, count), np.arange(1, n), np.arange(n - SWAPS, n)])
    return a, b


@pytest.mark.parametrize("categorical", [False, True])
def test_coded_scores_equal_the_frame_pipeline(
    raw_records: pd.DataFrame, categorical: bool
) -> None:
    normalised = normalise_frame(raw_records)
    model = fit_term_frequencies(
        default_model(),
        {"given_name": normalised["given_name"], "family_name": normalised["family_name"]},
    )
    assert any(f.tf for f in model.fields), "the test must exercise term frequencies"
    source = raw_records.astype("category") if categorical else raw_records
    coded = code_records(source)
    a, b = _pairs(len(coded), np.random.default_rng(3), 4000)
    fast = CodedScorer(coded, model).score_pairs(a, b)

    ids = coded.ids
    pairs = pd.MultiIndex.from_arrays([ids[a], ids[b]])
    slow = score_pairs(pairs, normalised, None, model, normalised=True)
    for name in PERSON_FIELDS:
        assert (fast.levels[name].to_numpy() == slow[name].to_numpy()).all(), name
    assert np.allclose(fast.score, slow["score"].to_numpy(), atol=1e-9)
    assert (fast.decision == slow["decision"].to_numpy()).all()
    decisions = set(fast.decision)
    assert {"link", "new"} <= decisions, "the pairs must include matches and non-matches"


def test_frame_of_coded_records_round_trips(raw_records: pd.DataFrame) -> None:
    coded = code_records(raw_records)
    positions = np.array([0, 5, 17, len(coded) - 1])
    back = coded.frame(positions)
    expected = normalise_frame(raw_records).iloc[positions][list(back.columns)]
    assert back.index.tolist() == expected.index.tolist()
    assert (
        back.astype(object)
        .where(back.notna(), None)
        .equals(expected.astype(object).where(expected.notna(), None))
    )
