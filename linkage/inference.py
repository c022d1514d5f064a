"""Comparing and scoring pairs, and deciding link / review / new, with reasons.

One naming scheme for every scoring path: `score_pairs` (pairs of frame rows),
`score_record_pairs` (pairs of record mappings, no pandas: the same numbers for a handful of
pairs), `CodedScorer.score_pairs` (millions of pairs of integer-coded records, in
linkage.internals.columnar); and, for a batch against candidate records, `score_candidates`
(frames), `score_record_candidates` (one record, no pandas) and `score_batch_pairs` (records
of one batch against each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from linkage.blocking import candidate_pairs
from linkage.internals.compare import PERSON_CONFIG, CompareConfig, compare, compare_records
from linkage.internals.model import (
    FSModel,
    decide,
    decide_levels,
    field_weights,
    weights_for_levels,
)
from linkage.internals.normalise import normalise_frame

_LABELS = {spec.name: spec.level_labels() for spec in PERSON_CONFIG.fields}
_CANDIDATE_COLUMNS = ["ord", "record_id", "person_id", "person_has_id", "score", "decision"]
_BATCH_COLUMNS = ["ord_l", "ord_r", "score", "decision"]


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


def score_record_pairs(
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


def record_explanations(scored: RecordScores, rows: Sequence[int]) -> list[dict[str, Any]]:
    """explanations() for the given rows of score_record_pairs() output (PERSON_CONFIG)."""
    names = list(_LABELS)
    column = {s.name: j for j, s in enumerate(PERSON_CONFIG.fields)}
    labels = [_LABELS[n] for n in names]
    picked = np.asarray(rows, dtype=np.intp)
    # rounded as arrays, as explanations() rounds them
    weights = {n: np.round(scored.weights[n].astype(float)[picked], 3) for n in names}
    probability = np.round(scored.probability.astype(float)[picked], 6)
    out = []
    for k, i in enumerate(rows):
        fields = {}
        for j, name in enumerate(names):
            level = int(scored.levels[i, column[name]])
            fields[name] = {
                "level": labels[j][level] if level >= 0 else None,
                "weight": float(weights[name][k]),
            }
        out.append(
            {"fields": fields, "probability": float(probability[k]), "veto": scored.veto[i] or None}
        )
    return out


def score_candidates(
    batch: pd.DataFrame, candidates: pd.DataFrame, pairs: pd.DataFrame, model: FSModel
) -> pd.DataFrame:
    """Batch record (index ord) vs registry record (index record_id), for pairs (ord, record_id)."""
    if not len(pairs):
        return _empty(_CANDIDATE_COLUMNS)
    index = pd.MultiIndex.from_arrays(
        [pairs["ord"].to_numpy(), pairs["record_id"].to_numpy()], names=["ord", "record_id"]
    )
    scored = score_pairs(index, batch, candidates, model, normalised=True)
    out = _with_explanations(scored)
    out["ord"] = index.get_level_values(0)
    out["record_id"] = index.get_level_values(1)
    record_ids = out["record_id"].to_numpy()
    out["person_id"] = candidates.loc[record_ids, "person_id"].to_numpy()
    out["person_has_id"] = candidates.loc[record_ids, "person_has_id"].to_numpy()
    return out.reset_index(drop=True)


def score_batch_pairs(
    batch: pd.DataFrame, keys: pd.DataFrame, model: FSModel, max_block: int
) -> pd.DataFrame:
    """Pairs of batch records sharing a blocking key (keys: key, id=ord), scored."""
    if len(batch) < 2 or not len(keys):
        return _empty(_BATCH_COLUMNS)
    pairs = candidate_pairs(keys, max_block=max_block)
    if not len(pairs):
        return _empty(_BATCH_COLUMNS)
    scored = score_pairs(pairs, batch, None, model, normalised=True)
    out = _with_explanations(scored)
    out["ord_l"] = pairs.get_level_values(0)
    out["ord_r"] = pairs.get_level_values(1)
    return out.reset_index(drop=True)


def explanations(scored: pd.DataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """Per-field level and weight of the given scored pairs, with probability and any veto."""
    names = list(_LABELS)
    levels = scored[names].to_numpy(dtype=np.int16)[rows]
    weights = np.round(scored[["w_" + n for n in names]].to_numpy(dtype=float)[rows], 3)
    probability = np.round(scored["probability"].to_numpy(dtype=float)[rows], 6)
    vetoes = scored["veto"].to_numpy(dtype=object)[rows]
    labels = [_LABELS[n] for n in names]
    out = []
    for i in range(len(rows)):
        fields = {
            name: {
                "level": labels[j][levels[i, j]] if levels[i, j] >= 0 else None,
                "weight": float(weights[i, j]),
            }
            for j, name in enumerate(names)
        }
        out.append(
            {"fields": fields, "probability": float(probability[i]), "veto": vetoes[i] or None}
        )
    return out


def _with_explanations(scored: pd.DataFrame) -> pd.DataFrame:
    """Score and decision per pair; an explanation only where the pair could link."""
    out = pd.DataFrame(
        {"score": scored["score"].to_numpy(), "decision": scored["decision"].to_numpy()}
    )
    linking = np.flatnonzero(scored["decision"].isin(("link", "review")).to_numpy())
    column: list[Any] = [None] * len(scored)
    for i, explanation in zip(linking, explanations(scored, linking), strict=True):
        column[i] = explanation
    out["explanation"] = column
    return out


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in [*columns, "explanation"]})


def score_record_candidates(
    record: Mapping[str, Any],
    candidates: Sequence[Mapping[str, Any]],
    model: FSModel,
) -> list[dict[str, Any]]:
    """score_candidates() for one batch record against its candidates, without pandas.

    record and candidates are normalised field mappings (candidates also carry record_id,
    person_id, person_has_id); one row per candidate, in order, with the same score,
    decision and explanation as the frame path.
    """
    scored = score_record_pairs([(record, c) for c in candidates], model, PERSON_CONFIG)
    linking = [i for i, d in enumerate(scored.decision) if d in ("link", "review")]
    explained = dict(zip(linking, record_explanations(scored, linking), strict=True))
    rows = []
    for i, candidate in enumerate(candidates):
        decision = scored.decision[i]
        explanation = explained.get(i)
        rows.append(
            {
                "record_id": candidate["record_id"],
                "person_id": candidate["person_id"],
                "person_has_id": candidate["person_has_id"],
                "score": float(scored.score[i]),
                "decision": decision,
                "explanation": explanation,
            }
        )
    return rows
