"""Estimating the Fellegi-Sunter model: EM, m from known matches, u from random pairs, tf."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.internals.compare import MISSING, PERSON_CONFIG, CompareConfig, compare
from linkage.internals.model import EPS, FieldModel, FSModel, default_model, initial_model

_TF_MAX_VALUES = 2000
#: Below this many known matching pairs, m is estimated by EM over blocked pairs instead.
MIN_MATCHED_PAIRS = 100
#: Thresholds of a trained (calibrated) model, as log2 odds: ~0.996 and ~0.985 probability.
TRAINED_UPPER = 8.0
TRAINED_LOWER = 6.0


@dataclass(frozen=True)
class Estimate:
    """An estimated model and how m was found ('id_anchored' or 'em')."""

    model: FSModel
    method: str


def estimate(
    records: pd.DataFrame,
    matched_pairs: pd.MultiIndex,
    blocked_pairs: Callable[[], pd.MultiIndex],
    *,
    random_pairs: int,
    seed: int,
) -> Estimate:
    """m from known matching pairs (EM over blocked pairs if too few), u from random pairs, tf.

    records are normalised and indexed by id; blocked_pairs is called only when EM is needed.
    """
    start = default_model()
    start = with_u_from_random(start, compare(sample_pairs(records, random_pairs, seed), records))
    if len(matched_pairs) >= MIN_MATCHED_PAIRS:
        model = with_m_from_matches(start, compare(matched_pairs, records))
        method = "id_anchored"
    else:
        model = fit_em(compare(blocked_pairs(), records), start=default_model())
        method = "em"
    model = fit_term_frequencies(
        model, {"given_name": records["given_name"], "family_name": records["family_name"]}
    )
    model.upper, model.lower = TRAINED_UPPER, TRAINED_LOWER
    model.meta.update(
        {
            "source": "trained",
            "method": method,
            "records": len(records),
            "id_pairs": len(matched_pairs),
        }
    )
    return Estimate(model, method)


def sample_pairs(records: pd.DataFrame, n: int, seed: int) -> pd.MultiIndex:
    """n random pairs of distinct records (almost all non-matches in any real registry)."""
    rng = np.random.default_rng(seed)
    ids = records.index.to_numpy()
    a = rng.integers(0, len(ids), n)
    b = rng.integers(0, len(ids), n)
    keep = a != b
    return pd.MultiIndex.from_arrays([ids[a[keep]], ids[b[keep]]])


def _levels(comparison: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    return comparison[list(names)].to_numpy(dtype=np.int16)


def _log_lik(patterns: np.ndarray, tables: Sequence[np.ndarray]) -> np.ndarray:
    """Sum over fields of log(prob[level]); missing levels contribute 0."""
    total = np.zeros(len(patterns))
    for j, table in enumerate(tables):
        col = patterns[:, j]
        logs = np.log(np.clip(table, EPS, 1.0))
        total += np.where(col == MISSING, 0.0, logs[np.maximum(col, 0)])
    return total


def _estimate(
    patterns: np.ndarray, weights: np.ndarray, n_levels: Sequence[int]
) -> list[np.ndarray]:
    """Weighted level frequencies per field, ignoring missing levels (lightly smoothed)."""
    out = []
    for j, k in enumerate(n_levels):
        col = patterns[:, j]
        mask = col != MISSING
        counts = np.bincount(col[mask], weights=weights[mask], minlength=k) + EPS
        out.append(counts / counts.sum())
    return out


def fit_em(
    comparison: pd.DataFrame,
    config: CompareConfig = PERSON_CONFIG,
    start: FSModel | None = None,
    max_iter: int = 200,
    tol: float = 1e-6,
    fix_u: bool = False,
) -> FSModel:
    """Estimate m, u and the prior by EM over distinct comparison patterns (vectorised)."""
    model = start or initial_model(config)
    names = model.field_names
    levels = _levels(comparison, names)
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    counts = counts.astype(float)
    n_levels = [len(f.m) for f in model.fields]
    m = [f.m.copy() for f in model.fields]
    u = [f.u.copy() for f in model.fields]
    prior = float(model.prior)
    iterations = 0
    for it in range(1, max_iter + 1):
        iterations = it
        log_odds = np.log(prior / (1 - prior)) + _log_lik(patterns, m) - _log_lik(patterns, u)
        g = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        new_prior = float(np.clip((counts * g).sum() / counts.sum(), EPS, 1 - EPS))
        new_m = _estimate(patterns, counts * g, n_levels)
        new_u = u if fix_u else _estimate(patterns, counts * (1 - g), n_levels)
        delta = max(
            abs(new_prior - prior),
            max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)),
            max(float(np.abs(a - b).max()) for a, b in zip(new_u, u, strict=True)),
        )
        m, u, prior = new_m, new_u, new_prior
        if delta < tol:
            break
    fields = [
        FieldModel(f.name, f.labels, m[j], u[j], f.tf_u, dict(f.tf))
        for j, f in enumerate(model.fields)
    ]
    meta = {**model.meta, "em_iterations": iterations, "n_pairs": int(counts.sum())}
    meta["n_patterns"] = len(patterns)
    return FSModel(fields, prior, model.upper, model.lower, list(model.vetoes), meta)


def fit_term_frequencies(
    model: FSModel, values: Mapping[str, pd.Series], max_values: int = _TF_MAX_VALUES
) -> FSModel:
    """Store value frequencies of common names so exact agreement on them weighs less."""
    fields = []
    for f in model.fields:
        series = values.get(f.name)
        if series is None:
            fields.append(f)
            continue
        freq = series.dropna().value_counts(normalize=True)
        u_avg = float((freq.to_numpy() ** 2).sum())  # chance two random records agree
        common = freq[freq > u_avg].head(max_values)
        tf = {str(k): float(v) for k, v in common.items()}
        fields.append(FieldModel(f.name, f.labels, f.m, f.u, u_avg, tf))
    return FSModel(fields, model.prior, model.upper, model.lower, list(model.vetoes), model.meta)


def _level_frequencies(comparison: pd.DataFrame, f: FieldModel, smoothing: float) -> np.ndarray:
    """Share of pairs at each level of one field (missing ignored), additively smoothed."""
    levels = comparison[f.name].to_numpy(dtype=np.int16)
    counts = np.bincount(levels[levels >= 0], minlength=len(f.m)).astype(float) + smoothing
    return counts / counts.sum()


def with_m_from_matches(model: FSModel, matches: pd.DataFrame, smoothing: float = 0.5) -> FSModel:
    """m from the comparison levels of pairs known to match (e.g. confirmed by national ID)."""
    fields = [
        FieldModel(f.name, f.labels, _level_frequencies(matches, f, smoothing), f.u, f.tf_u, f.tf)
        for f in model.fields
    ]
    meta = {**model.meta, "m_pairs": len(matches)}
    return FSModel(fields, model.prior, model.upper, model.lower, list(model.vetoes), meta)


def with_u_from_random(
    model: FSModel, random_pairs: pd.DataFrame, smoothing: float = 0.5
) -> FSModel:
    """u from the comparison levels of random record pairs (almost all non-matches)."""
    fields = [
        FieldModel(
            f.name, f.labels, f.m, _level_frequencies(random_pairs, f, smoothing), f.tf_u, f.tf
        )
        for f in model.fields
    ]
    meta = {**model.meta, "u_pairs": len(random_pairs)}
    return FSModel(fields, model.prior, model.upper, model.lower, list(model.vetoes), meta)
