"""End-to-end scoring of candidate pairs: normalise, compare, weigh and decide in one pass."""

from __future__ import annotations

import pandas as pd

from linkage.compare import PERSON_CONFIG, CompareConfig, compare
from linkage.model import FSModel, decide, field_weights
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
