"""A small registry for the dashboard: three programmes, overlaps that change with the date.

Persons (distinct valid CPR numbers) on 2024-03-01 / 2024-07-01:

* SEL85:  persons 0-11 from 2024-01-01 (0-5 in region 1084, 6-11 in 1085)
* SEL104: persons 0-7 from 2024-01-01, persons 8-11 from 2024-06-01
* SEL82:  persons 0-1 from 2024-01-01 (a small cell: suppressed for analysts)

So SEL85 × SEL104 is 8 on 2024-03-01 and 12 on 2024-07-01; SEL82 × SEL85 is 2.
SEL85 and SEL104 are marked mutually exclusive.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select

from api.app import create_app
from registry.core.db import transaction
from registry.core.settings import Settings
from registry.matching.models import MatchCandidate
from registry.records.models import SourceRecord
from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.dashboard.cdp import Browser, find_chromium
from tests.factories import bearer, client_token, make_client, make_user, user_token
from tests.faults.server import free_port
from tests.overview.conftest import episode, push

EARLY, LATE = "2024-03-01", "2024-07-01"


def person(i: int) -> dict[str, str]:
    """Person i: a distinct valid CPR number (a woman's: even last digit), born January 1985."""
    day = i % 28 + 1
    cpr = f"{day:02d}0185{1000 + 2 * i:04d}"
    return {"national_id": cpr, "born": f"1985-01-{day:02d}", "sex": "F"}


@dataclass
class World:
    setup: Setup
    auditor: str


def _enrol(source: str, i: int, benefit: str, start: str, region: str) -> dict[str, Any]:
    record = episode(source, benefit=benefit, start=start, end=None, region=region, **person(i))
    if benefit.startswith("1.18"):
        record["enrolment"]["target_group"] = "10"
    return record


@pytest.fixture
def world(client: TestClient, setup: Setup, engine: Engine) -> World:  # noqa: F811
    sel85 = [
        _enrol(f"A{i}", i, "1.12.0.2", "2024-01-01", "1084" if i < 6 else "1085") for i in range(12)
    ]
    sel104 = [
        _enrol(f"B{i}", i, "1.1", "2024-01-01" if i < 8 else "2024-06-01", "1085")
        for i in range(12)
    ]
    push(client, setup.sel85, "SEL85", "a1", sel85)
    push(client, setup.sel104, "SEL104", "b1", sel104)
    sel82 = client_token(client, *make_client(engine, "SEL82"))
    push(
        client,
        sel82,
        "SEL82",
        "c1",
        [_enrol(f"C{i}", i, "1.18.1", "2024-01-01", "1084") for i in range(2)],
    )
    marked = client.put(
        "/api/v1/programmes/SEL85/exclusive-with/SEL104", headers=bearer(setup.admin)
    )
    assert marked.status_code == 200, marked.text
    make_user(engine, "auditor", ["auditor"])
    return World(setup=setup, auditor=user_token(client, "auditor"))


def add_reviews(engine: Engine) -> None:
    """Exactly two pending review items: one 3 days old in region 1084, one an hour old in 1085.

    The look-alike test persons queue reviews of their own when they are fed; those go first.
    """
    now = datetime.now(UTC)
    with transaction(engine) as session:
        session.execute(delete(MatchCandidate))
        records = {
            r.source_id: r
            for r in session.scalars(
                select(SourceRecord).where(SourceRecord.source_id.in_(["A0", "A1", "A6", "A7"]))
            )
        }
        for record, other, age in (
            ("A0", "A1", timedelta(days=3)),
            ("A6", "A7", timedelta(hours=1)),
        ):
            session.add(
                MatchCandidate(
                    source_record_id=records[record].id,
                    candidate_person_id=records[other].person_id,
                    candidate_record_id=records[other].id,
                    reason="uncertain",
                    score=7.5,
                    weights={},
                    status="pending",
                    created_at=now - age,
                )
            )


class LiveServer:
    """The real app under uvicorn on loopback, in a thread of the test process."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(engine, settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 20) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def api(self, path: str, token: str, **params: Any) -> Any:
        """GET an API answer from the live server."""
        response = httpx.get(f"{self.base}{path}", params=params, headers=bearer(token), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def live_server(engine: Engine, settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(engine, settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium; missing, it fails the test in CI and skips elsewhere."""
    binary = find_chromium()
    if binary is None:
        message = (
            "chromium is not installed: the dashboard browser tests need Debian's `chromium` "
            "package (`make setup` installs it as root: apt-get install -y "
            "--no-install-recommends chromium)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    session = Browser(binary)
    try:
        yield session
    finally:
        session.close()
