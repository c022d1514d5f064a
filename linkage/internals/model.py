"""Fellegi-Sunter model: m/u over discrete levels, match weights, scores and decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from linkage.internals.compare import PERSON_CONFIG, TF_PREFIX, CompareConfig

MODEL_VERSION = 1
Decision = Literal["link", "review", "new"]
#: Floor of a probability (m, u, prior) before taking its logarithm.
EPS = 1e-6
_RANK: dict[str, int] = {"new": 0, "review": 1, "link": 2}
_DECISIONS = np.array(["new", "review", "link"], dtype=object)


@dataclass
class FieldModel:
    """m and u probability per level of one field, and its term-frequency table."""

    name: str
    labels: list[str]
    m: np.ndarray
    u: np.ndarray
    tf_u: float | None = None
    tf: dict[str, float] = field(default_factory=dict)

    def weights(self) -> np.ndarray:
        """log2(m/u) per level (the Bayes factor in bits)."""
        return np.log2(np.clip(self.m, EPS, 1.0) / np.clip(self.u, EPS, 1.0))


@dataclass
class Veto:
    """Caps the decision when every condition (field -> levels) holds and no `unless` does."""

    name: str
    conditions: dict[str, list[int]]
    outcome: Decision
    unless: dict[str, list[int]] = field(default_factory=dict)


DEFAULT_VETOES: tuple[Veto, ...] = (
    # Twins: same birth date and family name, clearly different given names.
    Veto("twins", {"given_name": [0], "birth_date": [3, 4], "family_name": [3, 4]}, "new"),
    # Parent and child of the same name: birth dates far apart.
    Veto("generation", {"birth_date": [0], "given_name": [3, 4], "family_name": [3, 4]}, "new"),
    # Both names wholly different: agreeing dates and places alone never link automatically.
    Veto("names_differ", {"given_name": [0], "family_name": [0]}, "review"),
)


@dataclass
class FSModel:
    """A trained Fellegi-Sunter model: per-field m/u, prior, thresholds and vetoes."""

    fields: list[FieldModel]
    prior: float
    upper: float = 8.0
    lower: float = 0.0
    vetoes: list[Veto] = field(default_factory=lambda: list(DEFAULT_VETOES))
    meta: dict[str, Any] = field(default_factory=dict)
    version: int = MODEL_VERSION

    @property
    def field_names(self) -> list[str]:
        """Compared fields in model order."""
        return [f.name for f in self.fields]

    def prior_weight(self) -> float:
        """log2 prior odds of a match among candidate pairs."""
        p = float(np.clip(self.prior, EPS, 1 - EPS))
        return float(np.log2(p / (1 - p)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able representation, with a version field."""
        return {
            "version": self.version,
            "prior": float(self.prior),
            "upper": float(self.upper),
            "lower": float(self.lower),
            "fields": [
                {
                    "name": f.name,
                    "labels": list(f.labels),
                    "m": [float(x) for x in f.m],
                    "u": [float(x) for x in f.u],
                    "tf_u": f.tf_u,
                    "tf": {str(k): float(v) for k, v in f.tf.items()},
                }
                for f in self.fields
            ],
            "vetoes": [
                {
                    "name": v.name,
                    "conditions": v.conditions,
                    "outcome": v.outcome,
                    "unless": v.unless,
                }
                for v in self.vetoes
            ],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FSModel:
        """Rebuild a model from to_dict() output; refuses unknown versions."""
        version = int(data.get("version", -1))
        if version != MODEL_VERSION:
            raise ValueError(f"unsupported linkage model version {version}")
        fields = [
            FieldModel(
                name=f["name"],
                labels=list(f["labels"]),
                m=np.asarray(f["m"], dtype=float),
                u=np.asarray(f["u"], dtype=float),
                tf_u=f.get("tf_u"),
                tf=dict(f.get("tf", {})),
            )
            for f in data["fields"]
        ]
        vetoes = [
            Veto(
                v["name"],
                {k: list(x) for k, x in v["conditions"].items()},
                v["outcome"],
                {k: list(x) for k, x in v.get("unless", {}).items()},
            )
            for v in data.get("vetoes", [])
        ]
        return cls(
            fields=fields,
            prior=float(data["prior"]),
            upper=float(data["upper"]),
            lower=float(data["lower"]),
            vetoes=vetoes,
            meta=dict(data.get("meta", {})),
            version=version,
        )


def initial_model(config: CompareConfig = PERSON_CONFIG, prior: float = 0.1) -> FSModel:
    """Starting m/u: m rising towards exact agreement, u falling; used to seed EM."""
    fields = []
    for spec in config.fields:
        k = spec.n_levels
        levels = np.arange(k, dtype=float)
        m = 2.0**levels
        u = 4.0 ** (-levels)
        fields.append(FieldModel(spec.name, spec.level_labels(), m / m.sum(), u / u.sum()))
    return FSModel(fields=fields, prior=prior)


def field_weights(model: FSModel, comparison: pd.DataFrame) -> pd.DataFrame:
    """Per-field match weights (log2 Bayes factors, tf-adjusted; 0 where missing)."""
    out = {}
    for f in model.fields:
        lv = comparison[f.name].to_numpy(dtype=np.int16)
        table = np.append(f.weights(), 0.0)  # index -1 (missing) -> 0
        w = table[lv]
        tf_col = TF_PREFIX + f.name
        if f.tf and f.tf_u and tf_col in comparison.columns:
            top = len(f.m) - 1
            freq = comparison[tf_col].map(f.tf).to_numpy(dtype=float)
            adj = np.log2(f.tf_u / np.nan_to_num(freq, nan=f.tf_u))
            w = np.where(lv == top, w + np.minimum(adj, 0.0), w)
        out[f.name] = w
    return pd.DataFrame(out, index=comparison.index)


def score(model: FSModel, comparison: pd.DataFrame) -> pd.Series:
    """Total match weight: prior log2 odds plus the sum of field weights."""
    total = field_weights(model, comparison).sum(axis=1) + model.prior_weight()
    return total.rename("score")


def probability(scores: pd.Series | np.ndarray) -> np.ndarray:
    """Posterior match probability from a total match weight."""
    return 1.0 / (1.0 + np.exp2(-np.asarray(scores, dtype=float)))


def veto_mask(model: FSModel, comparison: pd.DataFrame) -> dict[str, np.ndarray]:
    """For each veto, which pairs it applies to."""
    out = {}
    for v in model.vetoes:
        mask = np.ones(len(comparison), dtype=bool)
        for name, levels in v.conditions.items():
            if name not in comparison.columns:
                mask[:] = False
                break
            mask &= np.isin(comparison[name].to_numpy(), levels)
        for name, levels in v.unless.items():
            if name in comparison.columns:
                mask &= ~np.isin(comparison[name].to_numpy(), levels)
        out[v.name] = mask
    return out


def decide(
    model: FSModel,
    comparison: pd.DataFrame,
    scores: pd.Series | None = None,
) -> pd.DataFrame:
    """Score, probability, decision (link >= upper, review between, new below) and veto."""
    s = score(model, comparison) if scores is None else scores
    sv = s.to_numpy(dtype=float)
    rank = np.where(sv >= model.upper, 2, np.where(sv >= model.lower, 1, 0))
    vetoed = np.full(len(sv), "", dtype=object)
    masks = veto_mask(model, comparison)
    for v in model.vetoes:
        cap = _RANK[v.outcome]
        hit = masks[v.name] & (rank > cap)
        rank = np.where(hit, cap, rank)
        vetoed[hit] = v.name
    decision = _DECISIONS[rank]
    return pd.DataFrame(
        {"score": sv, "probability": probability(sv), "decision": decision, "veto": vetoed},
        index=comparison.index,
    )


# Plausible starting values for the person fields, used until the registry trains its own
# (order of levels as in PERSON_CONFIG: lowest agreement first).
_DEFAULT_MU: dict[str, tuple[list[float], list[float]]] = {
    "given_name": ([0.02, 0.03, 0.05, 0.10, 0.80], [0.90, 0.06, 0.02, 0.01, 0.01]),
    "family_name": ([0.03, 0.02, 0.05, 0.10, 0.80], [0.88, 0.06, 0.03, 0.015, 0.015]),
    "birth_date": ([0.005, 0.01, 0.06, 0.015, 0.91], [0.895, 0.1, 0.005, 1e-4, 5e-5]),
    "sex": ([0.01, 0.99], [0.5, 0.5]),
    "region": ([0.1, 0.9], [0.8, 0.2]),
    "municipality": ([0.2, 0.8], [0.98, 0.02]),
    "mother_name": ([0.05, 0.05, 0.15, 0.75], [0.95, 0.04, 0.007, 0.003]),
}


def default_model(config: CompareConfig = PERSON_CONFIG, prior: float = 0.05) -> FSModel:
    """An untrained person model with plausible m/u, for a registry before its first EM fit."""
    base = initial_model(config, prior)
    fields = []
    for f in base.fields:
        mu = _DEFAULT_MU.get(f.name)
        if mu is not None and len(mu[0]) == len(f.m):
            m, u = np.asarray(mu[0]), np.asarray(mu[1])
            f = FieldModel(f.name, f.labels, m / m.sum(), u / u.sum())
        fields.append(f)
    # Uncalibrated m/u: demand more evidence than a trained model needs (its own thresholds).
    return FSModel(fields=fields, prior=prior, upper=12.0, lower=10.0, meta={"source": "default"})


# --- Few pairs without pandas (the single-record ingest path) ---------------------------------


def weights_for_levels(
    model: FSModel,
    levels: np.ndarray,
    names: Sequence[str],
    tf_values: Mapping[str, Sequence[object]],
) -> np.ndarray:
    """field_weights() of a level matrix (columns named by `names`): pairs x model fields.

    tf_values holds the tf_ column of compare() per field; the result equals field_weights()
    on the same comparison, column for column.
    """
    column = {name: j for j, name in enumerate(names)}
    out = np.empty((len(levels), len(model.fields)), dtype=float)
    for k, f in enumerate(model.fields):
        lv = levels[:, column[f.name]].astype(np.int16)
        w = np.append(f.weights(), 0.0)[lv]  # index -1 (missing) -> 0
        values = tf_values.get(f.name)
        if f.tf and f.tf_u and values is not None:
            top = len(f.m) - 1
            freq = np.array(
                [np.nan if v is None else f.tf.get(str(v), np.nan) for v in values], dtype=float
            )
            adj = np.log2(f.tf_u / np.nan_to_num(freq, nan=f.tf_u))
            w = np.where(lv == top, w + np.minimum(adj, 0.0), w)
        out[:, k] = w
    return out


def decide_levels(
    model: FSModel, levels: np.ndarray, names: Sequence[str], scores: np.ndarray
) -> tuple[np.ndarray, list[str], list[str]]:
    """decide() for a level matrix: (probability, decision, veto name or '') per pair."""
    column = {name: j for j, name in enumerate(names)}
    sv = np.asarray(scores, dtype=float)
    rank = np.where(sv >= model.upper, 2, np.where(sv >= model.lower, 1, 0))
    vetoed = np.full(len(sv), "", dtype=object)
    for v in model.vetoes:
        mask = np.ones(len(sv), dtype=bool)
        for name, allowed in v.conditions.items():
            if name not in column:
                mask[:] = False
                break
            mask &= np.isin(levels[:, column[name]], allowed)
        for name, allowed in v.unless.items():
            if name in column:
                mask &= ~np.isin(levels[:, column[name]], allowed)
        cap = _RANK[v.outcome]
        hit = mask & (rank > cap)
        rank = np.where(hit, cap, rank)
        vetoed[hit] = v.name
    return probability(sv), [str(d) for d in _DECISIONS[rank]], [str(x) for x in vetoed]
