"""Records as integer codes, and Fellegi-Sunter scoring of millions of pairs of them.

The batch relink scores tens of millions of pairs; a pandas frame per chunk of pairs (object
strings, a MultiIndex, recordlinkage's gathering) costs more than the comparisons themselves.
Here every field is coded once per distinct value (names share one vocabulary, so swapped
given/family names compare too), each string similarity is computed once per distinct pair of
values, and the levels, weights and decisions are exactly those of `compare` + `decide`
(tests/linkage/test_columnar.py checks that on random pairs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from linkage.internals.compare import (
    MISSING,
    PERSON_CONFIG,
    CompareConfig,
    date_levels_from_parts,
    string_levels,
)
from linkage.internals.model import FieldModel, FSModel, decide
from linkage.internals.normalise import FIELD_NORMALISERS

_NO_PARTS = (-1, -1, -1)


@dataclass
class CodedRecords:
    """Normalised person fields of many records as int32 codes (-1 = missing), by position."""

    ids: np.ndarray  # record id per position (int64)
    codes: dict[str, np.ndarray]  # field -> code per position (names: into `names`)
    names: np.ndarray  # the shared vocabulary of the name fields (object array of str)
    values: dict[str, np.ndarray]  # exact-compared field -> its distinct values
    date_parts: np.ndarray  # (positions x 3) int32: year, month, day; -1 where missing

    def __len__(self) -> int:
        return len(self.ids)

    def frame(self, positions: np.ndarray, config: CompareConfig = PERSON_CONFIG) -> pd.DataFrame:
        """The normalised fields of some records as a frame indexed by id (the pandas path)."""
        out: dict[str, Any] = {}
        for spec in config.fields:
            codes = self.codes[spec.name][positions]
            if spec.method == "date":
                parts = self.date_parts[positions]
                out[spec.name] = [
                    f"{y:04d}-{m:02d}-{d:02d}" if y >= 0 else None for y, m, d in parts
                ]
                continue
            vocab = self.names if spec.method == "string" else self.values[spec.name]
            out[spec.name] = np.concatenate([vocab, np.array([None], dtype=object)])[codes]
        return pd.DataFrame(out, index=pd.Index(self.ids[positions], name="id"))


def code_records(
    frame: pd.DataFrame, config: CompareConfig = PERSON_CONFIG, normalised: bool = False
) -> CodedRecords:
    """Code the compared fields of a frame of raw (or `normalised`) values indexed by id.

    Columns may be object or categorical; normalisation runs once per distinct raw value.
    """
    ids = frame.index.to_numpy(dtype=np.int64)
    codes: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    strings = [s for s in config.fields if s.method == "string"]
    mapped_names: list[tuple[str, np.ndarray, np.ndarray]] = []
    date_parts = np.full((len(ids), 3), -1, dtype=np.int32)
    for spec in config.fields:
        raw_codes, uniques = _factorize(frame[spec.left])
        func: Callable[[Any], Any] | None = None if normalised else FIELD_NORMALISERS.get(spec.name)
        clean = np.array([_clean(v, func) for v in uniques] + [None], dtype=object)
        if spec in strings:
            mapped_names.append((spec.name, raw_codes, clean))
            continue
        if spec.method == "date":
            parts = np.array([_parts(v) for v in clean], dtype=np.int32).reshape(-1, 3)
            date_parts = parts[raw_codes]  # code -1 picks the trailing missing row
            codes[spec.name] = np.where(date_parts[:, 0] >= 0, 0, MISSING).astype(np.int32)
            continue
        value_codes, distinct = pd.factorize(clean, use_na_sentinel=True)
        codes[spec.name] = value_codes.astype(np.int32)[raw_codes]
        values[spec.name] = np.asarray(distinct, dtype=object)
    vocabulary = pd.unique(
        np.concatenate([c[:-1] for _, _, c in mapped_names] or [np.array([], dtype=object)])
    )
    names = np.asarray([v for v in vocabulary if v is not None], dtype=object)
    lookup = pd.Index(names)
    for name, raw_codes, clean in mapped_names:
        coded = np.full(len(clean), MISSING, dtype=np.int32)
        present = np.flatnonzero(pd.notna(clean))
        coded[present] = lookup.get_indexer(clean[present])
        codes[name] = coded[raw_codes]
    return CodedRecords(ids, codes, names, values, date_parts)


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing) and distinct values of a column, categorical or not."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), column.cat.categories.to_numpy()
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _clean(value: Any, func: Callable[[Any], Any] | None) -> Any:
    """A distinct value normalised (None when missing or normalised to nothing)."""
    if value is None or value != value:
        return None
    out = func(value) if func is not None else value
    return out or None


def _parts(value: Any) -> tuple[int, int, int]:
    """Year, month, day of an ISO date string (-1s when missing or unparseable)."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return int(value[:4]), int(value[5:7]), int(value[8:10])
        except ValueError:
            return _NO_PARTS
    return _NO_PARTS


def similarities(a: np.ndarray, b: np.ndarray, vocabulary: np.ndarray) -> np.ndarray:
    """Jaro-Winkler of coded names per pair (NaN where missing), once per distinct pair."""
    out = np.full(len(a), np.nan)
    present = (a >= 0) & (b >= 0)
    equal = present & (a == b)
    out[equal] = 1.0
    todo = np.flatnonzero(present & ~equal)
    if len(todo):
        size = np.int64(len(vocabulary))
        keys = a[todo].astype(np.int64) * size + b[todo]
        inverse, distinct = pd.factorize(keys)  # hashing: faster than np.unique here
        left, right = np.divmod(np.asarray(distinct, dtype=np.int64), size)
        sims = cpdist(
            list(vocabulary[left]),
            list(vocabulary[right]),
            scorer=JaroWinkler.normalized_similarity,
            workers=-1,
        )
        out[todo] = np.asarray(sims, dtype=float)[inverse]
    return out


@dataclass
class PairScores:
    """Levels per field, total score and decision of coded pairs (positions a, b)."""

    levels: pd.DataFrame  # int8 level per field, positional index
    score: np.ndarray
    decision: np.ndarray  # 'link' / 'review' / 'new'


class CodedScorer:
    """Compares, weighs and decides pairs of coded records: as `score_pairs` on the frame."""

    def __init__(
        self, records: CodedRecords, model: FSModel, config: CompareConfig = PERSON_CONFIG
    ) -> None:
        self.records = records
        self.model = model
        self.config = config
        self.specs = {s.name: s for s in config.fields}
        self.tables = {f.name: np.append(f.weights(), 0.0) for f in model.fields}  # -1 -> 0
        self.tf_adjustment = {
            f.name: _tf_adjustment(f, records.names)
            for f in model.fields
            if f.tf and f.tf_u and f.name in self.specs and self.specs[f.name].tf
        }

    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> PairScores:
        """Levels, score and decision of the pairs (a[i], b[i]) of record positions."""
        levels = self.levels(a, b)
        total = np.full(len(a), self.model.prior_weight())
        for f in self.model.fields:
            lv = levels[f.name]
            weights = self.tables[f.name][lv.astype(np.int16)]
            adjustment = self.tf_adjustment.get(f.name)
            if adjustment is not None:
                top = len(f.m) - 1
                left = adjustment[self.records.codes[f.name][a]]
                weights = np.where(lv == top, weights + left, weights)
            total += weights
        frame = pd.DataFrame(levels)
        decided = decide(self.model, frame, pd.Series(total))
        return PairScores(frame, total, decided["decision"].to_numpy())

    def levels(self, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        """Agreement level per field (int8, -1 missing), names swapped where that fits."""
        codes, names = self.records.codes, self.records.names
        sims = {
            s.name: similarities(codes[s.name][a], codes[s.name][b], names)
            for s in self.config.fields
            if s.method == "string"
        }
        if self.config.swap is not None:
            g, f = self.config.swap
            cross_g = np.nan_to_num(similarities(codes[g][a], codes[f][b], names))
            cross_f = np.nan_to_num(similarities(codes[f][a], codes[g][b], names))
            straight = np.nan_to_num(sims[g]) + np.nan_to_num(sims[f])
            swapped = (
                (cross_g + cross_f > straight + 0.05)
                & (cross_g >= self.config.swap_min)
                & (cross_f >= self.config.swap_min)
            )
            sims[g] = np.where(swapped, cross_g, sims[g])
            sims[f] = np.where(swapped, cross_f, sims[f])
        out: dict[str, np.ndarray] = {}
        for spec in self.config.fields:
            if spec.method == "string":
                out[spec.name] = string_levels(sims[spec.name], spec.thresholds)
            elif spec.method == "date":
                parts = self.records.date_parts
                out[spec.name] = date_levels_from_parts(parts[a], parts[b])
            else:
                ca, cb = codes[spec.name][a], codes[spec.name][b]
                out[spec.name] = np.where((ca >= 0) & (cb >= 0), ca == cb, MISSING).astype(np.int8)
        return out


def _tf_adjustment(field: FieldModel, names: np.ndarray) -> np.ndarray:
    """Per name code (last entry: missing), the weight change on exact agreement on it."""
    assert field.tf_u is not None
    frequency = np.array([field.tf.get(v, np.nan) for v in names] + [np.nan], dtype=float)
    return np.minimum(np.log2(field.tf_u / np.nan_to_num(frequency, nan=field.tf_u)), 0.0)
