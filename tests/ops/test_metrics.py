"""GET /metrics: Prometheus text, loopback only, counting what happened and nothing personal."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.authz import rule_of
from api.routers import health, metrics
from registry.core.settings import Settings
from tests.factories import bearer, client_token, make_client, make_programme, record


@pytest.fixture
def loopback(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine, settings), client=("127.0.0.1", 40000)) as test_client:
        yield test_client


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if got == wanted:
                return float(match.group(3))
    return 0.0


def test_metrics_count_requests_batches_and_outcomes(loopback: TestClient, engine: Engine) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    token = client_token(loopback, *make_client(engine, "SEL85"))
    before = loopback.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    route = "/api/v1/programmes/{code}/batches"
    labels = {"method": "POST", "route": route, "status": "200"}
    count = sample(before.text, "registry_http_requests_total", **labels)
    batches = sample(before.text, "registry_feed_batch_records_count")
    created = sample(before.text, "registry_link_outcomes_total", outcome="created")

    answer = loopback.post(
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": "b1", "records": [record("S-1", given_name="Sigrid")]},
        headers=bearer(token),
    )
    assert answer.status_code == 200
    resent = loopback.post(  # a replay is not counted again
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": "b1", "records": [record("S-1", given_name="Sigrid")]},
        headers=bearer(token),
    )
    assert resent.status_code == 200
    after = loopback.get("/metrics").text

    assert sample(after, "registry_http_requests_total", **labels) == count + 2
    latency = sample(
        after, "registry_http_request_duration_seconds_count", method="POST", route=route
    )
    assert latency >= 1
    assert sample(after, "registry_feed_batch_records_count") == batches + 1
    assert sample(after, "registry_link_outcomes_total", outcome="created") == created + 1
    assert sample(after, "registry_database_up") == 1.0
    assert "Sigrid" not in after and "S-1" not in after and "/SEL85/" not in after

    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.match_candidate')")).scalar()
        pending = (
            conn.execute(
                text("SELECT count(*) FROM match_candidate WHERE status = 'pending'")
            ).scalar_one()
            if exists
            else None
        )
    queue = sample(after, "registry_review_queue_length")
    assert math.isnan(queue) if pending is None else queue == pending


def test_metrics_are_for_monitoring_networks_only(client: TestClient) -> None:
    """The TestClient's default peer is not an address on the monitoring networks."""
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


def test_operations_routes_declare_public_access() -> None:
    routes = {
        r.path: r
        for r in (*health.router.routes, *metrics.router.routes)
        if isinstance(r, APIRoute)
    }
    for path in ("/metrics", "/healthz", "/readyz"):
        rule = rule_of(routes[path])
        assert rule is not None and rule.public, path
