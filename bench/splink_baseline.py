"""Splink (DuckDB backend) as an unsupervised deduplication baseline for person records.

Install: .venv/bin/pip install -e '.[dev,bench]'
Run:     timeout 900 .venv/bin/python bench/splink_baseline.py [--persons 20000] [--seed 1]

`splink_dedupe` is what the linkage benchmark imports: it normalises the records lightly
(the same way for every record), trains a Fellegi-Sunter model without labels (prior from
deterministic rules, u by random sampling, m by EM on two blockings), scores the blocked
pairs and clusters them at a match-probability threshold. The `__main__` scores the
clusters against the generator's ground truth; the truth is never given to Splink.
"""

from __future__ import annotations

import argparse
import logging
import re
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

# Letters that NFKD does not decompose, spelt the conventional ASCII way (ø -> oe, å -> aa).
_FOLD = str.maketrans(
    {"ø": "oe", "å": "aa", "æ": "ae", "ß": "ss", "ı": "i", "ł": "l", "đ": "d", "ð": "d"}
)
_SPACES = re.compile(r"\s+")
U_MAX_PAIRS = 1e7
"""Pairs sampled for the u probabilities (Splink's docs: 1e7 "often adequate"); with 5e6
the rare levels (swapped names, one-digit ID typo) are estimated from a handful of pairs."""


@dataclass
class SplinkResult:
    """Clusters found by Splink and what it took to find them."""

    clusters: dict[str, int]  # record key -> cluster id
    seconds: float  # wall time for training + prediction + clustering (not import)
    pairs_scored: int
    version: str  # splink.__version__


def _name(value: Any) -> str | None:
    """Lowercase, trimmed, diacritics folded to ASCII (ø -> oe, å -> aa); None if empty."""
    if value is None:
        return None
    text = _SPACES.sub(" ", str(value).strip().lower()).translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text or None


def _text(value: Any) -> str | None:
    """Trimmed text, None if empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: str | None) -> date | None:
    """An ISO date as a date (a DATE column in DuckDB), None if absent or invalid."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The records as Splink input: one row each, lightly normalised."""
    rows = []
    for r in records:
        born = _text(r.get("birth_date"))
        sex = _text(r.get("sex"))
        rows.append(
            {
                "key": str(r["key"]),
                "given_name": _name(r.get("given_name")),
                "family_name": _name(r.get("family_name")),
                "birth_date": _date(born),
                "birth_year": born[:4] if born else None,
                "sex": sex.upper() if sex else None,
                "region": _name(r.get("region")),
                "municipality": _name(r.get("municipality")),
                "mother_name": _name(r.get("mother_name")),
                "national_id": _text(r.get("national_id")),
            }
        )
    return pd.DataFrame(rows)


def _name_comparison(col: str, other: str) -> cl.CustomComparison:
    """Null, exact (TF-adjusted), swapped with `other`, Jaro-Winkler 0.92/0.88/0.7, else."""
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col).configure(tf_adjustment_column=col),
            cll.ColumnsReversedLevel(col, other, symmetrical=True),
            cll.JaroWinklerLevel(col, 0.92),
            cll.JaroWinklerLevel(col, 0.88),
            cll.JaroWinklerLevel(col, 0.70),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison() -> cl.CustomComparison:
    """Exact, one edit, day and month swapped, then within a month / a year / ten years."""
    swapped = (
        "year(birth_date_l) = year(birth_date_r)"
        " and month(birth_date_l) = day(birth_date_r)"
        " and day(birth_date_l) = month(birth_date_r)"
    )
    date_levels = [
        cll.AbsoluteDateDifferenceLevel(
            "birth_date", input_is_string=False, threshold=1, metric="month"
        ),
        cll.AbsoluteDateDifferenceLevel(
            "birth_date", input_is_string=False, threshold=1, metric="year"
        ),
        cll.AbsoluteDateDifferenceLevel(
            "birth_date", input_is_string=False, threshold=10, metric="year"
        ),
    ]
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.DamerauLevenshteinLevel(ColumnExpression("birth_date").cast_to_string(), 1),
            cll.CustomLevel(swapped, label_for_charts="Day and month swapped"),
            *date_levels,
            cll.ElseLevel(),
        ],
    )


#: Blocking rules for prediction: one field and a birth year or place (recall at 20k)...
BROAD_RULES = [
    block_on("national_id"),
    block_on("family_name", "birth_year"),
    block_on("given_name", "birth_date"),
    block_on("birth_date", "region"),
    CustomRule("l.given_name = r.family_name and l.family_name = r.given_name"),
    block_on("mother_name", "birth_year"),
]
#: ...or two fields each (as the registry's relink pairs on two keys): at a million persons
#: the broad rules' blocks (a common family name and a year) exceed the machine's memory.
TIGHT_RULES = [
    block_on("national_id"),
    block_on("family_name", "birth_date"),
    block_on("given_name", "birth_date"),
    block_on("given_name", "family_name", "birth_year"),
    block_on("given_name", "family_name", "municipality"),
    CustomRule(
        "l.given_name = r.family_name and l.family_name = r.given_name "
        "and l.birth_year = r.birth_year"
    ),
    block_on("mother_name", "birth_date"),
]


def _settings(rules: list[Any]) -> SettingsCreator:
    """The model: comparisons and the blocking rules for prediction."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="key",
        comparisons=[
            _name_comparison("given_name", "family_name"),
            _name_comparison("family_name", "given_name"),
            _birth_date_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("region"),
            cl.ExactMatch("municipality").configure(term_frequency_adjustments=True),
            cl.NameComparison("mother_name", jaro_winkler_thresholds=[0.92, 0.8]),
            cl.CustomComparison(
                output_column_name="national_id",
                comparison_levels=[
                    cll.NullLevel("national_id"),
                    cll.ExactMatchLevel("national_id"),
                    cll.DamerauLevenshteinLevel("national_id", 1),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def splink_dedupe(
    records: list[dict[str, Any]],
    threshold: float = 0.9,
    seed: int = 1,
    *,
    tight: bool = False,
    memory_limit: str | None = None,
) -> SplinkResult:
    """Deduplicate person records with Splink, unsupervised; clusters at `threshold`.

    `tight` blocks on two fields per rule (TIGHT_RULES); `memory_limit` caps DuckDB (which
    then spills to disk) instead of its default of 80 % of the machine's memory.
    """
    t0 = time.perf_counter()
    frame = _frame(records)
    connection = duckdb.connect()
    if memory_limit:
        # Spill to the system's temporary directory, bounded, not the working directory.
        spill = tempfile.mkdtemp(prefix="splink-")
        connection.execute(f"SET memory_limit = '{memory_limit}'")
        connection.execute(f"SET temp_directory = '{spill}'")
        connection.execute("SET max_temp_directory_size = '20GB'")
    db_api = DuckDBAPI(connection)
    rules = TIGHT_RULES if tight else BROAD_RULES
    linker = Linker(db_api.register(frame), _settings(rules), log_level=logging.WARNING)

    # Prior from rules that admit almost no false positives (recall is a guess, not fitted).
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("national_id", "birth_date"),
            block_on("given_name", "family_name", "birth_date", "mother_name"),
        ],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    # Two EM sessions, each leaving free the comparisons the other's blocking fixes.
    # (Tight: each narrowed by a third field, as its blocks hold hundreds at a million.)
    em_names = (
        ("given_name", "family_name", "birth_year") if tight else ("given_name", "family_name")
    )
    em_date = ("birth_date", "region") if tight else ("birth_date",)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(*em_names), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(*em_date), estimate_without_term_frequencies=True
    )

    predictions = linker.inference.predict()
    counted = linker.misc.query_sql(
        f"select count(*) as n from {predictions.physical_name}", output_type="pandas"
    )
    pairs_scored = int(counted["n"].iloc[0])
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    ids: dict[str, int] = {}
    clusters: dict[str, int] = {}
    for key, cluster in zip(clustered["key"], clustered["cluster_id"], strict=True):
        clusters[str(key)] = ids.setdefault(str(cluster), len(ids))
    seconds = time.perf_counter() - t0
    return SplinkResult(
        clusters=clusters, seconds=seconds, pairs_scored=pairs_scored, version=splink.__version__
    )


# --------------------------------------------------------------------------- evaluation


def _pairs(counts: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def pairwise_prf(clusters: dict[str, int], truth: dict[str, int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of `clusters` against true person ids."""
    predicted = _pairs(Counter(clusters.values()).values())
    actual = _pairs(Counter(truth[k] for k in clusters).values())
    correct = _pairs(Counter((c, truth[k]) for k, c in clusters.items()).values())
    p = correct / predicted if predicted else 0.0
    r = correct / actual if actual else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def demo_records(n_persons: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Hard-noise feeds of the four demo programmes as Splink input, and their truth."""
    from registry.demo.population import (
        Noise,
        demo_programmes,
        generate_feeds,
        generate_persons,
    )

    feeds = generate_feeds(
        generate_persons(n_persons, seed=seed), demo_programmes(), Noise.hard(), seed=seed
    )
    records: list[dict[str, Any]] = []
    truth: dict[str, int] = {}
    for code, rows in feeds.records.items():
        for row in rows:
            key = f"{code}:{row['source_id']}"
            truth[key] = feeds.truth[(code, row["source_id"])]
            records.append(
                {
                    "key": key,
                    **{
                        field: row.get(field)
                        for field in (
                            "given_name",
                            "family_name",
                            "birth_date",
                            "sex",
                            "region",
                            "municipality",
                            "mother_name",
                            "national_id",
                        )
                    },
                }
            )
    return records, truth


def main() -> None:
    """Run Splink on generated feeds and print pairwise quality and speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    records, truth = demo_records(args.persons, args.seed)
    result = splink_dedupe(records, threshold=args.threshold, seed=args.seed)
    p, r, f = pairwise_prf(result.clusters, truth)
    print(
        f"splink {result.version}: {args.persons} persons, {len(records)} records, "
        f"{len(set(truth.values()))} true persons, {len(set(result.clusters.values()))} clusters"
    )
    print(f"pairs scored: {result.pairs_scored}; threshold {args.threshold}")
    print(f"pairwise precision={p:.4f}  recall={r:.4f}  F1={f:.4f}")
    print(f"time: {result.seconds:.2f}s ({len(records) / result.seconds:,.0f} records/s)")


if __name__ == "__main__":
    main()
