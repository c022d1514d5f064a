"""Graceful shutdown: SIGTERM lets the in-flight batch finish, commit and answer 200."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from registry.core.db import make_engine
from registry.core.migrate import upgrade_to_head
from registry.core.roles import bootstrap, derived_urls
from tests.factories import make_client, make_programme, record
from tests.faults.server import Server


@pytest.fixture
def fresh_url(server_url: str) -> Iterator[str]:
    """A database of its own on the run's server, for a server process to use (as the app)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_shutdown WITH (FORCE)"))
    bootstrap(server_url, "registry_shutdown")
    urls = derived_urls(server_url, "registry_shutdown")
    upgrade_to_head(urls.owner)
    yield urls.app
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_shutdown WITH (FORCE)"))
    admin.dispose()


def test_sigterm_finishes_the_in_flight_batch(fresh_url: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_url, pool_size=1)
    make_programme(engine, "SEL85", ["1.12.0.2"])
    client_id, secret = make_client(engine, "SEL85")
    server = Server(fresh_url, tmp_path / "server.log")
    server.start()
    try:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
            timeout=30,
        ).json()["access_token"]
        records = [record(f"S-{n}", national_id=None, given_name=f"G{n}") for n in range(6000)]
        outcome: dict[str, Any] = {}

        def push() -> None:
            try:
                outcome["response"] = httpx.post(
                    f"{server.base}/api/v1/programmes/SEL85/batches",
                    json={"batch_id": "big", "records": records},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        pusher = threading.Thread(target=push)
        pusher.start()
        time.sleep(0.4)  # the batch is being applied
        started = time.monotonic()
        exit_code = server.terminate(timeout=60)
        pusher.join(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        server.kill()
    assert "error" not in outcome, outcome
    assert outcome["response"].status_code == 200, outcome["response"].text
    assert outcome["response"].json()["accepted"] == 6000
    assert exit_code in (0, -15)  # uvicorn re-raises the SIGTERM it handled, after draining
    assert elapsed < 30
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
    engine.dispose()
    assert held == 6000
    log = (tmp_path / "server.log").read_text()
    assert '"logger": "uvicorn.error"' in log  # uvicorn's own lines go through our JSON logs
