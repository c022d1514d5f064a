"""Database faults: 503 (never a stack trace) while PostgreSQL is down, recovery by itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from registry.core.db import make_engine
from registry.core.migrate import alembic_config, head_revision, upgrade_to_head
from registry.core.settings import Settings
from tests.factories import bearer, client_token, make_client, make_programme, record
from tests.faults.cluster import Cluster

BATCHES = "/api/v1/programmes/SEL85/batches"


@dataclass
class Live:
    cluster: Cluster
    engine: Engine
    client: TestClient
    feed: str


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture
def live(cluster: Cluster, settings: Settings) -> Iterator[Live]:
    url = cluster.create_database("registry_fault")
    upgrade_to_head(url)
    engine = make_engine(url, pool_size=2, connect_timeout=2)
    make_programme(engine, "SEL85", ["1.12.0.2"])
    app = create_app(engine, settings)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield Live(cluster, engine, client, client_token(client, *make_client(engine, "SEL85")))
    engine.dispose()


def assert_unavailable(response: object) -> None:
    status = getattr(response, "status_code", None)
    text = str(getattr(response, "text", ""))
    assert status == 503, text
    assert "Traceback" not in text and "psycopg2" not in text and 'File "' not in text


def test_503_while_the_database_is_down_and_recovery_by_itself(live: Live) -> None:
    client, headers = live.client, bearer(live.feed)
    assert client.get("/readyz").json()["status"] == "ok"
    first = client.post(
        BATCHES, json={"batch_id": "b1", "records": [record("S-1")]}, headers=headers
    )
    assert first.status_code == 200, first.text

    live.cluster.stop("immediate")  # a crash: every pooled connection is now dead
    try:
        ready = client.get("/readyz")
        assert_unavailable(ready)
        assert ready.json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200  # the process itself is fine
        for _ in range(3):  # the pool's dead connections, then failed connection attempts
            down = client.post(
                BATCHES, json={"batch_id": "b2", "records": [record("S-2")]}, headers=headers
            )
            assert_unavailable(down)
            assert down.json()["error"] == "ServiceUnavailable"
            assert down.headers.get("retry-after")
            assert_unavailable(client.get("/api/v1/programmes/SEL85/records/S-1", headers=headers))
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "registry_database_up 0.0" in metrics.text
    finally:
        live.cluster.start()

    # no restart of the app, no retry by hand: pre-ping replaces the dead connections
    assert client.get("/readyz").json()["status"] == "ok"
    again = client.post(
        BATCHES, json={"batch_id": "b2", "records": [record("S-2")]}, headers=headers
    )
    assert again.status_code == 200, again.text
    held = client.get("/api/v1/programmes/SEL85/records/S-1", headers=headers)
    assert held.status_code == 200, held.text
    assert "registry_database_up 1.0" in client.get("/metrics").text


def test_readyz_reports_pending_migrations(cluster: Cluster, settings: Settings) -> None:
    from alembic import command

    url = cluster.create_database("registry_behind")
    command.upgrade(alembic_config(url), "0001")
    engine = make_engine(url, pool_size=1)
    try:
        with TestClient(create_app(engine, settings)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "database": "migrations pending",
            "at": "0001",
            "head": head_revision(),
        }
    finally:
        engine.dispose()
