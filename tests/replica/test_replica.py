"""Read scaling (issue 8): overview and audit reads on a real streaming hot standby.

A primary and a standby (``pg_basebackup -R``) run on loopback. To prove where an answer came
from, replay on the standby is paused and a batch is pushed to the primary: from then on the two
servers hold different data, so an answer that reads from the primary (a broken router) shows
the new batch and one served by the standby does not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.deps import read_router
from registry.core.db import ReadRouter, make_engine
from registry.core.migrate import upgrade_to_head
from registry.core.settings import Settings
from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import bearer, make_user, user_token
from tests.overview.conftest import P1, P2, P3, episode, push
from tests.replica.cluster import WAIT_SECONDS, Pair, primary_and_standby

DATABASE = "registry_test"
AS_OF = "2024-06-30"
#: /metrics answers only loopback callers.
LOOPBACK = ("127.0.0.1", 40000)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """The primary (migrated to head) and its hot standby; both stopped afterwards."""
    with primary_and_standby() as servers:
        servers.sql(servers.primary, f"CREATE DATABASE {DATABASE}")
        upgrade_to_head(servers.primary.url(DATABASE))
        servers.wait_caught_up(DATABASE)
        yield servers


@pytest.fixture(scope="module")
def engine(pair: Pair) -> Iterator[Engine]:
    """The primary: the harness empties its tables before each test, the standby follows."""
    primary = make_engine(pair.primary.url(DATABASE), pool_size=4)
    yield primary
    primary.dispose()


def replica_app(engine: Engine, settings: Settings, pair: Pair, max_lag: float) -> FastAPI:
    """The app with REGISTRY_REPLICA_URL set to the standby."""
    configured = settings.model_copy(
        update={"replica_url": pair.standby.url(DATABASE), "replica_max_lag_seconds": max_lag}
    )
    return create_app(engine, configured)


@pytest.fixture
def client(engine: Engine, settings: Settings, pair: Pair) -> Iterator[TestClient]:
    """Replica configured with a lag bound of an hour: a paused standby still serves."""
    app = replica_app(engine, settings, pair, max_lag=3600)
    with TestClient(app, client=LOOPBACK) as test_client:
        yield test_client
    routed(app).dispose()


@pytest.fixture(autouse=True)
def replay_resumed(pair: Pair) -> Iterator[None]:
    """Every test leaves the standby applying WAL again."""
    yield
    pair.resume_replay(DATABASE)


def routed(app: object) -> ReadRouter:
    """The app's read router (what the read dependency uses)."""
    return read_router(cast(FastAPI, app))


def coverage(client: TestClient, token: str) -> dict[str, int]:
    """Persons per programme on AS_OF, through the API."""
    response = client.get(
        "/api/v1/overview/coverage", params={"as_of": AS_OF}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return {r["programme"]: r["persons"] for r in response.json()["rows"]}


def persons_on(url: str) -> int:
    """Persons stored on one server, read directly."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())
    finally:
        engine.dispose()


def first_batch(client: TestClient, setup: Setup) -> None:  # noqa: F811
    push(client, setup.sel85, "SEL85", "b1", [
        episode("A1", benefit="1.12.0.1", start="2024-01-01", end=None, region="1084", **P1),
        episode("A2", benefit="1.12.0.2", start="2024-03-01", end=None, region="1084", **P2),
    ])  # fmt: skip


def second_batch(client: TestClient, setup: Setup) -> None:  # noqa: F811
    push(client, setup.sel85, "SEL85", "b2", [
        episode("A3", benefit="1.12.0.2", start="2023-01-01", end=None, region="1085", **P3),
    ])  # fmt: skip


def caught_up(pair: Pair, router: ReadRouter) -> float:
    """Wait (bounded) for the standby to replay everything; the router's measured lag."""
    waited = pair.wait_caught_up(DATABASE)
    assert waited <= WAIT_SECONDS
    status = router.check()
    assert status.serving, status
    assert status.lag_seconds is not None and status.lag_seconds <= 1.0, status
    return status.lag_seconds


def test_overview_and_audit_reads_come_from_the_standby_writes_go_to_the_primary(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
    pair: Pair,
) -> None:
    make_user(engine, "auditor", ["auditor"])
    auditor = user_token(client, "auditor")
    router = routed(client.app)
    first_batch(client, setup)
    caught_up(pair, router)
    assert coverage(client, setup.oversight) == {"SEL85": 2}

    pair.pause_replay(DATABASE)
    # a write through the app still works: it went to the primary (the standby refuses writes)
    second_batch(client, setup)
    assert persons_on(pair.primary.url(DATABASE)) == 3
    assert persons_on(pair.standby.url(DATABASE)) == 2
    # the answers show the standby's data, not the primary's
    assert coverage(client, setup.oversight) == {"SEL85": 2}
    listed = client.get(
        "/api/v1/overview/overlaps/persons",
        params={"as_of": AS_OF, "min_programmes": 1},
        headers=bearer(setup.oversight),
    )
    assert listed.status_code == 200, listed.text
    shown = sorted(p["person_id"] for p in listed.json()["persons"])
    assert len(shown) == 2
    # ... and the audit event naming the persons shown was written on the primary
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT person_ids FROM audit_event WHERE action = 'overview.persons'")
        ).scalars()
        assert [sorted(ids) for ids in audited] == [shown]
    # the auditor's listing and verification read the standby: the new event is not there yet
    events = client.get(
        "/api/v1/audit/events", params={"action": "overview.persons"}, headers=bearer(auditor)
    )
    assert events.status_code == 200, events.text
    assert events.json()["events"] == []
    with engine.connect() as conn:
        on_primary = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    verified = client.get("/api/v1/audit/verify", headers=bearer(auditor)).json()
    assert verified["ok"] is True
    assert 0 < verified["events_checked"] < on_primary

    pair.resume_replay(DATABASE)
    caught_up(pair, router)
    assert coverage(client, setup.oversight) == {"SEL85": 3}
    events = client.get(
        "/api/v1/audit/events", params={"action": "overview.persons"}, headers=bearer(auditor)
    )
    assert [sorted(e["person_ids"]) for e in events.json()["events"]] == [shown]


def test_a_standby_lagging_beyond_the_bound_is_bypassed(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
    settings: Settings,
    pair: Pair,
) -> None:
    app = replica_app(engine, settings, pair, max_lag=1.0)
    router = routed(app)
    with TestClient(app, client=LOOPBACK) as strict:
        first_batch(strict, setup)
        caught_up(pair, router)
        pair.pause_replay(DATABASE)
        second_batch(strict, setup)
        deadline = time.monotonic() + WAIT_SECONDS
        while (status := router.check()).serving:
            assert time.monotonic() < deadline, "the lag bound never passed 1 s"
            time.sleep(0.2)
        assert status.reason.startswith("lagging"), status
        assert status.lag_seconds is not None and status.lag_seconds > 1.0
        # answered by the primary: the standby still holds 2 persons
        assert persons_on(pair.standby.url(DATABASE)) == 2
        assert coverage(strict, setup.oversight) == {"SEL85": 3}
        metrics = strict.get("/metrics").text
        assert "registry_replica_serving 0.0" in metrics
        # the lenient app (an hour's bound) still reads the paused standby
        assert coverage(client, setup.oversight) == {"SEL85": 2}

        pair.resume_replay(DATABASE)
        caught_up(pair, router)
        assert "registry_replica_serving 1.0" in strict.get("/metrics").text
        assert coverage(strict, setup.oversight) == {"SEL85": 3}
    router.dispose()


def test_an_unreachable_standby_is_bypassed(
    client: TestClient,
    setup: Setup,  # noqa: F811
    pair: Pair,
) -> None:
    router = routed(client.app)
    first_batch(client, setup)
    caught_up(pair, router)
    pair.pause_replay(DATABASE)
    second_batch(client, setup)
    assert coverage(client, setup.oversight) == {"SEL85": 2}  # the paused standby serves
    # no scheduled re-check: only the failing replica connection can send reads elsewhere
    router.check_seconds = 3600
    router.check()
    pair.standby.stop("fast")
    try:
        started = time.monotonic()
        assert coverage(client, setup.oversight) == {"SEL85": 3}  # from the primary
        assert time.monotonic() - started < WAIT_SECONDS
        assert not router.status.serving and router.status.reason.startswith("unreachable")
        assert math.isnan(_gauge(client, "registry_replica_lag_seconds"))
        # still unreachable at the next check
        assert router.check().reason.startswith("unreachable")
    finally:
        pair.standby.start("hot_standby=on", "wal_receiver_status_interval=1s")
    caught_up(pair, router)
    assert coverage(client, setup.oversight) == {"SEL85": 3}


def test_a_replica_url_that_is_not_a_standby_is_refused(engine: Engine, pair: Pair) -> None:
    """Pointing REGISTRY_REPLICA_URL at a primary (or a promoted standby) keeps reads at home."""
    url = make_url(pair.primary.url(DATABASE)).render_as_string(False)
    router = ReadRouter(engine, make_engine(url, pool_size=1), max_lag_seconds=3600)
    try:
        status = router.check()
        assert not status.serving and status.reason.startswith("not a standby"), status
        assert router.read_engine() is engine
    finally:
        router.dispose()


def _gauge(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")
