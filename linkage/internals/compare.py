"""Comparison vectors: discrete agreement levels per field for candidate pairs (recordlinkage)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import recordlinkage
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

Method = Literal["string", "date", "exact"]
MISSING = -1
TF_PREFIX = "tf_"
DATE_LEVELS = ("far", "year_near", "two_of_three", "day_month_swap", "exact")


@dataclass(frozen=True)
class FieldSpec:
    """How one field is compared: method, columns, thresholds and term-frequency use."""

    name: str
    method: Method
    left_on: str = ""
    right_on: str = ""
    thresholds: tuple[float, ...] = (0.94, 0.88, 0.75)
    tf: bool = False

    @property
    def left(self) -> str:
        """Column on the left frame."""
        return self.left_on or self.name

    @property
    def right(self) -> str:
        """Column on the right frame."""
        return self.right_on or self.left_on or self.name

    @property
    def n_levels(self) -> int:
        """Number of agreement levels (0 = disagree, highest = exact)."""
        if self.method == "string":
            return len(self.thresholds) + 2
        if self.method == "date":
            return len(DATE_LEVELS)
        return 2

    def level_labels(self) -> list[str]:
        """Human-readable label of each level, lowest first."""
        if self.method == "string":
            sims = [f"jw>={t:g}" for t in sorted(self.thresholds)]
            return ["different", *sims, "exact"]
        if self.method == "date":
            return list(DATE_LEVELS)
        return ["different", "exact"]


@dataclass(frozen=True)
class CompareConfig:
    """The fields compared, and an optional pair of name fields that may be swapped."""

    fields: tuple[FieldSpec, ...]
    swap: tuple[str, str] | None = None
    swap_min: float = 0.85


PERSON_CONFIG = CompareConfig(
    fields=(
        FieldSpec("given_name", "string", thresholds=(0.94, 0.88, 0.75), tf=True),
        FieldSpec("family_name", "string", thresholds=(0.94, 0.88, 0.75), tf=True),
        FieldSpec("birth_date", "date"),
        FieldSpec("sex", "exact"),
        FieldSpec("region", "exact"),
        FieldSpec("municipality", "exact"),
        FieldSpec("mother_name", "string", thresholds=(0.92, 0.80)),
    ),
    swap=("given_name", "family_name"),
)


def jaro_winkler(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Jaro-Winkler similarity per pair; NaN where either side is missing."""
    a = left.to_numpy(dtype=object)
    b = right.to_numpy(dtype=object)
    out = np.full(len(a), np.nan)
    present = pd.notna(a) & pd.notna(b)
    equal = present & (a == b)
    out[equal] = 1.0
    todo = np.flatnonzero(present & ~equal)
    if len(todo):
        # Score each distinct string pair once: names repeat heavily within blocks.
        ca, ua = pd.factorize(a[todo])
        cb, ub = pd.factorize(b[todo])
        keys = ca.astype(np.int64) * (len(ub) + 1) + cb
        uniq, inverse = np.unique(keys, return_inverse=True)
        ia, ib = np.divmod(uniq, len(ub) + 1)
        sims = np.asarray(
            cpdist(list(ua[ia]), list(ub[ib]), scorer=JaroWinkler.normalized_similarity),
            dtype=float,
        )
        out[todo] = sims[inverse]
    return out


def string_levels(sim: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Levels from similarities: top = exact, then one per threshold, 0 below, -1 missing."""
    ts = sorted(thresholds, reverse=True)
    top = len(ts) + 1
    conds = [np.isnan(sim), sim >= 1.0] + [sim >= t for t in ts]
    choices = [MISSING, top] + [top - 1 - i for i in range(len(ts))]
    return np.select(conds, choices, default=0).astype(np.int8)


def _date_ints(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day arrays from ISO strings (-1 where missing), parsed once per value."""
    codes, uniques = pd.factorize(s.to_numpy(dtype=object))
    parts = np.full((len(uniques) + 1, 3), -1, dtype=np.int32)  # last row: missing
    for i, v in enumerate(uniques):
        if isinstance(v, str) and len(v) >= 10:
            with suppress(ValueError):
                parts[i] = (int(v[:4]), int(v[5:7]), int(v[8:10]))
    rows = parts[codes]  # code -1 picks the missing row
    return rows[:, 0], rows[:, 1], rows[:, 2]


def date_levels(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Date levels: 4 exact, 3 day/month swap, 2 two of three parts, 1 year within 2, 0 far."""
    return date_levels_from_parts(np.stack(_date_ints(left), 1), np.stack(_date_ints(right), 1))


def date_levels_from_parts(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """date_levels from (n x 3) year/month/day arrays (-1 where missing)."""
    ya, ma, da = left[:, 0], left[:, 1], left[:, 2]
    yb, mb, db = right[:, 0], right[:, 1], right[:, 2]
    missing = (ya < 0) | (yb < 0)
    same_y, same_m, same_d = ya == yb, ma == mb, da == db
    exact = same_y & same_m & same_d
    swap = same_y & (ma == db) & (da == mb) & (ma != da)
    two = (same_y.astype(int) + same_m + same_d) >= 2
    near = np.abs(ya - yb) <= 2
    return np.select([missing, exact, swap, two, near], [MISSING, 4, 3, 2, 1], default=0).astype(
        np.int8
    )


def exact_levels(left: pd.Series, right: pd.Series) -> np.ndarray:
    """1 where equal, 0 where different, -1 where either side is missing."""
    a = left.to_numpy(dtype=object)
    b = right.to_numpy(dtype=object)
    present = pd.notna(a) & pd.notna(b)
    return np.where(present, (a == b).astype(np.int8), MISSING).astype(np.int8)


def _sim_label(left: str, right: str) -> str:
    return f"sim__{left}__{right}"


#: Below this many pairs the columns are gathered directly: recordlinkage.Compare costs a
#: fixed ~8 ms per call, more than scoring a one-record batch; above it, recordlinkage.
DIRECT_MAX_PAIRS = 5_000

Comparator = tuple[str, Callable[[pd.Series, pd.Series], np.ndarray], str, str]


def comparators(config: CompareConfig) -> list[Comparator]:
    """(label, vectorised function, left column, right column) of every raw comparison."""
    out: list[Comparator] = []
    for spec in config.fields:
        if spec.method == "string":
            out.append((_sim_label(spec.left, spec.right), jaro_winkler, spec.left, spec.right))
        elif spec.method == "date":
            out.append((spec.name, date_levels, spec.left, spec.right))
        else:
            out.append((spec.name, exact_levels, spec.left, spec.right))
    if config.swap is not None:
        specs = {s.name: s for s in config.fields}
        g, f = specs[config.swap[0]], specs[config.swap[1]]
        out.append((_sim_label(g.left, f.right), jaro_winkler, g.left, f.right))
        out.append((_sim_label(f.left, g.right), jaro_winkler, f.left, g.right))
    return out


def raw_comparisons(
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    config: CompareConfig,
    direct: bool | None = None,
) -> dict[str, np.ndarray]:
    """Each comparator's values per pair: via recordlinkage, or gathered directly when small."""
    if direct is None:
        direct = len(pairs) < DIRECT_MAX_PAIRS
    if not direct:
        cmp = recordlinkage.Compare()
        for label, func, lcol, rcol in comparators(config):
            cmp.compare_vectorized(func, lcol, rcol, label=label)
        raw = cmp.compute(pairs, left, right)
        return {label: raw[label].to_numpy() for label in raw.columns}
    lpos = left.index.get_indexer(pairs.get_level_values(0))
    rpos = right.index.get_indexer(pairs.get_level_values(1))
    return {
        label: np.asarray(
            func(
                pd.Series(left[lcol].to_numpy(dtype=object)[lpos]),
                pd.Series(right[rcol].to_numpy(dtype=object)[rpos]),
            )
        )
        for label, func, lcol, rcol in comparators(config)
    }


def compare(
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame | None = None,
    config: CompareConfig = PERSON_CONFIG,
    direct: bool | None = None,
) -> pd.DataFrame:
    """Comparison levels (int8, -1 missing) per field for each pair, plus tf_ value columns."""
    right = left if right is None else right
    raw = raw_comparisons(pairs, left, right, config, direct)
    specs = {s.name: s for s in config.fields}

    sims: dict[str, np.ndarray] = {}
    for spec in config.fields:
        if spec.method == "string":
            sims[spec.name] = raw[_sim_label(spec.left, spec.right)].astype(float)
    swapped = np.zeros(len(pairs), dtype=bool)
    if config.swap is not None:
        g, f = specs[config.swap[0]], specs[config.swap[1]]
        cross_g = np.nan_to_num(raw[_sim_label(g.left, f.right)].astype(float))
        cross_f = np.nan_to_num(raw[_sim_label(f.left, g.right)].astype(float))
        straight = np.nan_to_num(sims[g.name]) + np.nan_to_num(sims[f.name])
        swapped = (
            (cross_g + cross_f > straight + 0.05)
            & (cross_g >= config.swap_min)
            & (cross_f >= config.swap_min)
        )
        sims[g.name] = np.where(swapped, cross_g, sims[g.name])
        sims[f.name] = np.where(swapped, cross_f, sims[f.name])

    out = pd.DataFrame(index=pairs)
    left_rows = pairs.get_level_values(0)
    for spec in config.fields:
        if spec.method == "string":
            out[spec.name] = string_levels(sims[spec.name], spec.thresholds)
        else:
            out[spec.name] = raw[spec.name].astype(np.int8)
        if spec.tf:
            out[TF_PREFIX + spec.name] = left.loc[left_rows, spec.left].to_numpy(dtype=object)
    if config.swap is not None:
        out["swapped_names"] = swapped
    return out


def level_columns(comparison: pd.DataFrame, config: CompareConfig = PERSON_CONFIG) -> np.ndarray:
    """The level matrix (pairs x fields, int8) in the config's field order."""
    return comparison[[s.name for s in config.fields]].to_numpy(dtype=np.int8)


# --- Few pairs without pandas (the single-record ingest path) ---------------------------------


def _missing(value: object) -> bool:
    """pd.notna's verdict for one value: None and NaN are missing."""
    return value is None or (isinstance(value, float) and value != value)


def _jw(a: object, b: object) -> float:
    """jaro_winkler for one pair (NaN where either side is missing)."""
    if _missing(a) or _missing(b):
        return float("nan")
    if a == b:
        return 1.0
    return float(JaroWinkler.normalized_similarity(str(a), str(b)))


def _string_level(sim: float, thresholds: Sequence[float]) -> int:
    """string_levels for one similarity."""
    if sim != sim:
        return MISSING
    ts = sorted(thresholds, reverse=True)
    top = len(ts) + 1
    if sim >= 1.0:
        return top
    for i, t in enumerate(ts):
        if sim >= t:
            return top - 1 - i
    return 0


def _date_tuple(value: object) -> tuple[int, int, int]:
    """_date_ints for one value: (year, month, day), -1s where missing or unparsable."""
    if isinstance(value, str) and len(value) >= 10:
        with suppress(ValueError):
            return (int(value[:4]), int(value[5:7]), int(value[8:10]))
    return (-1, -1, -1)


def _date_level(a: object, b: object) -> int:
    """date_levels for one pair."""
    ya, ma, da = _date_tuple(a)
    yb, mb, db = _date_tuple(b)
    if ya < 0 or yb < 0:
        return MISSING
    same_y, same_m, same_d = ya == yb, ma == mb, da == db
    if same_y and same_m and same_d:
        return 4
    if same_y and ma == db and da == mb and ma != da:
        return 3
    if int(same_y) + int(same_m) + int(same_d) >= 2:
        return 2
    if abs(ya - yb) <= 2:
        return 1
    return 0


def _exact_level(a: object, b: object) -> int:
    """exact_levels for one pair."""
    if _missing(a) or _missing(b):
        return MISSING
    return int(a == b)


def compare_records(
    pairs: Sequence[tuple[Mapping[str, object], Mapping[str, object]]],
    config: CompareConfig = PERSON_CONFIG,
) -> tuple[np.ndarray, dict[str, list[object]]]:
    """compare() for a few (left, right) normalised records, without pandas.

    Returns the level matrix (pairs x fields, int8, the config's field order) and the tf_
    values per tf field (the left record's value), exactly as compare() computes them.
    """
    specs = {s.name: s for s in config.fields}
    levels = np.empty((len(pairs), len(config.fields)), dtype=np.int8)
    tf: dict[str, list[object]] = {s.name: [] for s in config.fields if s.tf}
    for i, (left, right) in enumerate(pairs):
        sims = {
            s.name: _jw(left.get(s.left), right.get(s.right))
            for s in config.fields
            if s.method == "string"
        }
        if config.swap is not None:
            g, f = specs[config.swap[0]], specs[config.swap[1]]
            cross_g = float(np.nan_to_num(_jw(left.get(g.left), right.get(f.right))))
            cross_f = float(np.nan_to_num(_jw(left.get(f.left), right.get(g.right))))
            straight = float(np.nan_to_num(sims[g.name])) + float(np.nan_to_num(sims[f.name]))
            if (
                cross_g + cross_f > straight + 0.05
                and cross_g >= config.swap_min
                and cross_f >= config.swap_min
            ):
                sims[g.name], sims[f.name] = cross_g, cross_f
        for j, spec in enumerate(config.fields):
            a, b = left.get(spec.left), right.get(spec.right)
            if spec.method == "string":
                levels[i, j] = _string_level(sims[spec.name], spec.thresholds)
            elif spec.method == "date":
                levels[i, j] = _date_level(a, b)
            else:
                levels[i, j] = _exact_level(a, b)
            if spec.tf:
                tf[spec.name].append(a)
    return levels, tf
