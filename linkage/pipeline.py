"""End-to-end scoring of candidate pairs: normalise, compare, weigh and decide in one pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.compare import PERSON_CONFIG, CompareConfig, compare, compare_records
from linkage.model import FSModel, decide, decide_levels, field_weights, weights_for_levels
from linkage.normalise import normalise_frame


def score_pairs(
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame | None,
    model: FSModel,
    config: CompareConfig = PERSON_CONFIG,
    normalised: bool = False,
) -> pd.DataFrame:
    """Per pair: levels, per-field weights (w_ columns), score, probability, decision, veto."""
    if not normalised:
        left = normalise_frame(left)
        right = None if right is None else normalise_frame(right)
    comparison = compare(pairs, left, right, config)
    weights = field_weights(model, comparison).add_prefix("w_")
    decided = decide(model, comparison)
    levels = comparison[[s.name for s in config.fields]]
    return pd.concat([levels, weights, decided], axis=1)


@dataclass(frozen=True)
class RecordScores:
    """score_pairs() output for a few pairs, as arrays (no pandas)."""

    levels: np.ndarray  # pairs x config fields (int8, -1 missing)
    weights: dict[str, np.ndarray]  # per model field
    score: np.ndarray
    probability: np.ndarray
    decision: list[str]
    veto: list[str]


def score_records(
    pairs: Sequence[tuple[Mapping[str, object], Mapping[str, object]]],
    model: FSModel,
    config: CompareConfig = PERSON_CONFIG,
) -> RecordScores:
    """score_pairs() for (left, right) normalised records, the same numbers without pandas.

    For a handful of pairs (one record against its candidates) building the frames costs
    more than the scoring; tests/linkage/test_compare_records.py checks that both agree bit
    for bit.
    """
    names = [s.name for s in config.fields]
    levels, tf_values = compare_records(pairs, config)
    weights = weights_for_levels(model, levels, names, tf_values)
    total = weights.sum(axis=1) + model.prior_weight()
    prob, decision, veto = decide_levels(model, levels, names, total)
    return RecordScores(
        levels,
        {f.name: weights[:, k] for k, f in enumerate(model.fields)},
        total,
        prob,
        decision,
        veto,
    )
