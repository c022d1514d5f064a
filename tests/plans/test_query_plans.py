"""Every hot query's plan, on a registry of realistic size: no sequential scan of a large table.

A database of its own is migrated to head, populated set-based (tests/plans/population.py)
and analysed. Each scenario calls the real service function; every statement it runs is
planned with EXPLAIN at the moment it runs (tests/plans/explain.py), so the checked text is
the code's current text, stage tables included. A plan that reads one of LARGE_TABLES with a
Seq Scan fails, naming the statement and printing its plan — unless the scenario reads the
table in full by nature (a registry-wide aggregate) or the statement is in ALLOWED; both say
why. Run: `pytest tests/plans/test_query_plans.py` (about 30 s, most of it building the data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.audit.service import AuditContext, list_events, record_event, who_accessed
from registry.core.db import make_engine, session_factory
from registry.core.migrate import upgrade_to_head
from registry.core.settings import Settings
from registry.ingest import queries
from registry.ingest.service import ingest_batch
from registry.matching import incremental
from registry.matching.review_queue import list_reviews
from registry.matching.stewardship import person_history
from registry.overview import quality, summary
from registry.overview import queries as overview_queries
from registry.overview.duplicates import duplicates
from registry.overview.quality import quality_report
from registry.overview.service import coverage, overlaps, persons_in_programmes, timeseries
from registry.persons import golden
from registry.persons.service import get_person
from registry.programmes.service import get_programme
from registry.records.reads import get_record
from registry.subject.service import subject_access
from registry.submission.after_commit import finish_batch
from tests.plans.conftest import FreshDatabase
from tests.plans.explain import Capture, capturing, constant_names, partition_parents
from tests.plans.population import Population, populate

PERSONS = 60_000
PROFILES = 30_000
#: The batch is to the test registry what a 1,000-record batch is to a 600,000-person one: plans
#: depend on that ratio (a batch touching 2 % of all persons is rightly joined by hashing).
BATCH = 100

NAMES = constant_names(incremental, queries, overview_queries, summary, quality, golden)

OVERSIGHT = Principal("user:1", "oversight", frozenset({"oversight"}), frozenset({"*"}))
REGIONAL = Principal("user:2", "oversight", frozenset({"oversight"}), frozenset({"1084"}))
STEWARD = Principal("user:3", "steward", frozenset({"steward"}), frozenset({"1084"}))
NATIONAL_STEWARD = Principal("user:4", "steward", frozenset({"steward"}), frozenset({"*"}))
AUDITOR = AuditContext(actor="user:5", roles=("auditor",))

#: Registry-wide aggregates read every current episode (and the records and persons they
#: join); an index would only add random reads, so a sequential scan is the right plan.
WHOLE_REGISTRY = "a registry-wide aggregate reads every active episode: a full scan is optimal"
EPISODE_TABLES = ("enrolment", "source_record", "person")

#: Statements (by the constant they are run from) allowed to scan a large table, and why.
#: Each entry is checked to be still needed: a stale one fails, so the list cannot rot.
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    "overview.quality.RECORD_COUNT": (
        frozenset({"person"}),
        "a programme's active persons after each batch: joins every active episode of the "
        "programme to its person (a quarter of the registry here), so hashing `person` once "
        "beats one probe per episode; its cost grows with the programme, not the batch",
    ),
}


@dataclass
class Registry:
    """The populated database and what the scenarios need from it."""

    engine: Engine
    settings: Settings
    population: Population
    partitions: dict[str, str] = field(default_factory=dict)
    empty: frozenset[str] = frozenset()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is always rolled back (scenarios never change the data)."""
        session = session_factory(self.engine)()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@pytest.fixture(scope="module")
def registry(fresh_database: FreshDatabase, settings: Settings) -> Iterator[Registry]:
    url = fresh_database("registry_plans")
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=2)
    plan_settings = settings.model_copy(update={"national_id_scheme": "generic"})
    population = populate(
        engine, plan_settings.secret("national_id_key").encode(), PERSONS, PROFILES
    )
    yield Registry(engine, plan_settings, population, *partition_parents(engine))
    engine.dispose()


def _batch(population: Population) -> list[dict[str, Any]]:
    """A feed batch for the first programme: updates, known IDs, no IDs (probabilistic), new."""
    code = population.programme_codes[0]
    codes = population.benefit_codes[code]
    slot_persons = [i for i in range(4, population.persons, 4)]  # first record in `code`
    other_persons = [i for i in range(1, population.persons) if i % 4 and i % 5]
    no_id_persons = [i for i in range(5, population.persons, 5) if i % 4]

    def record(source_id: str, i: int, national_id: str | None, amount: float) -> dict[str, Any]:
        p = population.profile_of(i)
        return {
            "source_id": source_id,
            "national_id": national_id,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "birth_date": p.birth_date.isoformat(),
            "sex": p.sex,
            "region": p.region,
            "municipality": p.municipality,
            "mother_name": p.mother_name,
            "enrolment": {
                "benefit_code": codes[i % len(codes)],
                "target_group": "1.2.2",
                "status": "active",
                "start_date": "2024-02-01",
                "end_date": None,
                "amount": amount,
            },
        }

    share = BATCH // 10
    records = [
        record(f"S{i}-1", i, population.national_id(i), 4321.0) for i in slot_persons[: 3 * share]
    ]
    records += [
        record(f"X{i}", i, population.national_id(i), 100.0) for i in other_persons[: 3 * share]
    ]
    records += [record(f"Y{i}", i, None, 100.0) for i in no_id_persons[: 3 * share]]
    records += [record(f"Z{n}", population.persons + n, f"NEW{n:08d}", 100.0) for n in range(share)]
    return records


@dataclass(frozen=True)
class Scenario:
    """A hot path: the service call(s), and the large tables it must read in full (why)."""

    name: str
    run: Callable[[Session, Registry], Any]
    full_scans: dict[str, str] = field(default_factory=dict)


def _ingest(session: Session, reg: Registry) -> None:
    programme = get_programme(session, reg.population.programme_codes[0])
    outcome = ingest_batch(
        session,
        programme=programme,
        batch_id="plans-batch",
        records=_batch(reg.population),
        submitted_by="plans",
        settings=reg.settings,
    )
    statuses = {r.status for r in outcome.answer.results}
    assert outcome.answer.rejected == 0, outcome.answer.results[:3]
    assert {"linked", "created"} <= statuses, statuses
    finish_batch(session, programme, outcome, reg.settings)


def _ingest_one(session: Session, reg: Registry) -> None:
    """The single-record API path: one record without an ID, matched, then the finish."""
    programme = get_programme(session, reg.population.programme_codes[0])
    one = {**_batch(reg.population)[6 * (BATCH // 10)], "source_id": "ONE-1"}
    assert one["national_id"] is None
    outcome = ingest_batch(
        session,
        programme=programme,
        batch_id="plans-one",
        records=[one],
        submitted_by="plans",
        settings=reg.settings,
    )
    assert outcome.answer.accepted == 1, outcome.answer.results
    finish_batch(session, programme, outcome, reg.settings)


def _now() -> datetime:
    return datetime.now(UTC)


def _some_event_id(session: Session) -> int:
    return int(session.execute(text("SELECT max(id) - 5000 FROM audit_event")).scalar_one())


SCENARIOS = [
    Scenario(f"ingest: a batch of {BATCH} records (updates, known IDs, no IDs, new)", _ingest),
    Scenario("ingest: one record without an ID, and its finish", _ingest_one),
    Scenario(
        "audit: append an event (chain head lookup)",
        lambda s, r: record_event(
            s, AUDITOR, "person.read", person_ids=[r.population.person_id(7)]
        ),
    ),
    Scenario(
        "audit: list a time range",
        lambda s, r: list_events(s, since=_now() - timedelta(days=3), until=_now()),
    ),
    Scenario(
        "audit: list a time range, next page",
        lambda s, r: list_events(
            s, since=_now() - timedelta(days=40), until=_now(), cursor=_some_event_id(s)
        ),
    ),
    Scenario(
        "audit: list by person",
        lambda s, r: list_events(s, person_id=r.population.person_id(1234)),
    ),
    Scenario("audit: list by actor", lambda s, r: list_events(s, actor="user:7", limit=50)),
    Scenario(
        "audit: who accessed a person", lambda s, r: who_accessed(s, r.population.person_id(99))
    ),
    Scenario(
        "review queue: a steward's regions",
        lambda s, r: list_reviews(s, STEWARD, limit=50),
    ),
    Scenario(
        "review queue: national, next page",
        lambda s, r: list_reviews(s, NATIONAL_STEWARD, limit=50, after=1000),
    ),
    Scenario(
        "persons: golden record (national and regional scope)",
        lambda s, r: (
            get_person(s, OVERSIGHT, r.population.person_id(4242)),
            _maybe_missing(lambda: get_person(s, REGIONAL, r.population.person_id(4243))),
        ),
    ),
    Scenario(
        "persons: identity history",
        lambda s, r: person_history(s, NATIONAL_STEWARD, r.population.person_id(51)),
    ),
    Scenario(
        "records: one source record with versions and episodes",
        lambda s, r: get_record(s, get_programme(s, r.population.programme_of(12)), "S12-1"),
    ),
    Scenario(
        "persons: subject access export",
        lambda s, r: subject_access(s, NATIONAL_STEWARD, r.population.person_id(4242)),
    ),
    Scenario(
        "overview: coverage by programme and region (summary)",
        lambda s, r: coverage(s, OVERSIGHT, date.today(), by=["programme", "region"]),
        {
            "overview_spell": "the summary is the aggregate's input: every segment covering "
            "the date is counted",
            "overview_combination": "same: every person's segment covering the date",
        },
    ),
    Scenario(
        "overview: overlaps (summary)",
        lambda s, r: overlaps(s, OVERSIGHT, date.today()),
        {"overview_combination": "every person's programme set on the date is counted"},
    ),
    Scenario(
        "overview: coverage by sex and age band (episodes)",
        lambda s, r: coverage(s, OVERSIGHT, date.today(), by=["sex", "age_band"]),
        dict.fromkeys(EPISODE_TABLES, WHOLE_REGISTRY),
    ),
    Scenario(
        "overview: overlaps as recorded a month ago (episodes)",
        lambda s, r: overlaps(s, OVERSIGHT, date.today(), recorded_at=_now() - timedelta(30)),
        dict.fromkeys(EPISODE_TABLES, WHOLE_REGISTRY),
    ),
    Scenario(
        "overview: monthly time series of one programme",
        lambda s, r: timeseries(
            s,
            OVERSIGHT,
            date.today() - timedelta(days=365),
            date.today(),
            programme=r.population.programme_codes[1],
        ),
        dict.fromkeys(EPISODE_TABLES, WHOLE_REGISTRY),
    ),
    Scenario(
        "overview: persons in two or more programmes, first page, regional",
        lambda s, r: persons_in_programmes(s, REGIONAL, date.today(), limit=100),
        dict.fromkeys(EPISODE_TABLES, WHOLE_REGISTRY),
    ),
    Scenario(
        "overview: double enrolments and exclusive pairs",
        lambda s, r: duplicates(s, OVERSIGHT, date.today()),
        dict.fromkeys(EPISODE_TABLES, WHOLE_REGISTRY),
    ),
    Scenario(
        "overview: a programme's quality report",
        lambda s, r: quality_report(s, NATIONAL_STEWARD, r.population.programme_codes[2]),
        {
            "enrolment": "recipients per quarter and start spikes count the programme's episodes",
            "source_record": "joined for the retraction flag of every counted episode",
            "person": "joined for the resolved person of every counted episode",
        },
    ),
]


def _maybe_missing(call: Callable[[], Any]) -> Any:
    """A lookup outside the caller's regions answers 404; the plan is what counts here."""
    from registry.core.errors import NotFound

    try:
        return call()
    except NotFound:
        return None


def _check(capture: Capture, reg: Registry, scenario: Scenario) -> list[str]:
    """One message per statement that scans a large table it may not."""
    failures = []
    for planned in capture.planned:
        allowed = set(scenario.full_scans) | set(ALLOWED.get(planned.name, ((), ""))[0])
        scanned = sorted(set(planned.seq_scans(reg.partitions, reg.empty)) - allowed)
        if scanned:
            failures.append(
                f"{planned.name}: Seq Scan on {', '.join(scanned)}\n"
                f"--- SQL ---\n{planned.sql.strip()}\n--- plan ---\n{planned.outline()}"
            )
    return failures


#: Statement name -> large tables it scanned, and the scenarios run, in this session.
SEEN: dict[str, set[str]] = {}
RAN: set[str] = set()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_hot_query_plans_avoid_seq_scans(registry: Registry, scenario: Scenario) -> None:
    with registry.session() as session, capturing(registry.engine, scenario.name, NAMES) as capture:
        scenario.run(session, registry)
    assert capture.planned, f"{scenario.name}: no statement was captured"
    for planned in capture.planned:
        SEEN.setdefault(planned.name, set()).update(
            planned.seq_scans(registry.partitions, registry.empty)
        )
    RAN.add(scenario.name)
    failures = _check(capture, registry, scenario)
    assert not failures, f"{scenario.name}:\n\n" + "\n\n".join(failures)


def test_allowed_scans_are_still_needed(registry: Registry) -> None:
    """Runs after the scenarios: every ALLOWED entry was met and still scans what it names."""
    if len(RAN) < len(SCENARIOS):
        pytest.skip("judges the ALLOWED list only after every scenario ran in this session")
    for name, (tables, _) in ALLOWED.items():
        assert name in SEEN, f"{name} was not run by any scenario: drop it from ALLOWED"
        stale = tables - SEEN[name]
        assert not stale, f"{name} no longer scans {sorted(stale)}: drop it from ALLOWED"


def test_the_check_catches_a_scan_without_index(registry: Registry) -> None:
    """A query with no usable index is flagged, on a plain table and through partitions."""
    probe = Scenario("probe", lambda s, r: None)
    with registry.session() as session, capturing(registry.engine, "probe", NAMES) as capture:
        session.execute(text("SELECT id FROM source_record WHERE mother_name = :m"), {"m": "x"})
        session.execute(text("SELECT id FROM audit_event WHERE request_id = 'x'"))
        session.execute(text("SELECT id FROM source_record WHERE id = 5"))
    failures = _check(capture, registry, probe)
    assert len(failures) == 2, failures
    assert "probe #1: Seq Scan on source_record" in failures[0]
    assert "probe #2: Seq Scan on audit_event" in failures[1]
    assert "Seq Scan on audit_event_p" in failures[1]  # the plan names the partitions
