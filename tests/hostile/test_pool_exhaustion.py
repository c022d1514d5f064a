"""One user's many heavy overview reads must not exhaust the pool and take everyone down.

The attack (issue item 9): an oversight user sends 60 concurrent `GET /overview/duplicates`
to a real server with a small connection pool. To make each read hold its connection as long
as a slow query would, the test holds an ACCESS EXCLUSIVE lock on `programme_exclusion` (which
only that query reads) until the other callers have been served. A broken registry lets the
60 take every connection: a sign-in, a person read and a feed push then wait for the pool and
fail, and the reads queued behind answer 500 (pool timeout). The registry must answer the
excess 429 or 503 with Retry-After, never 500, and keep serving the others.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from api.app import create_app
from api.limits import Admission, HeavyReadLimiter, Refusal, is_heavy
from api.slots import SlotFiles
from registry.core.settings import Settings
from tests.factories import (
    PASSWORD,
    bearer,
    make_client,
    make_programme,
    make_user,
    record,
    user_token,
)
from tests.faults.server import Server

ATTACKERS = 60
#: Longer than SQLAlchemy's default pool timeout (30 s): a request stuck behind the attack
#: gets its 500 (or would hang) before the client gives up, so the failure is the registry's.
PATIENCE = 35.0
DUPLICATES = "/api/v1/overview/duplicates"
BUSY = {429, 503}


@pytest.fixture
def server(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Server]:
    """The API with a pool of 2 (+2 overflow) connections, and its data."""
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_user(engine, "attacker", ["oversight"], ["*"])
    make_user(engine, "colleague", ["oversight"], ["*"])
    running = Server(database_url, tmp_path / "server.log", REGISTRY_DB_POOL_SIZE="2")
    running.start()
    yield running
    running.kill()


def token(http: httpx.Client, **form: str) -> str:
    """Sign in (a user, or a feed client) at the real server."""
    response = http.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def blocked_readers(engine: Engine) -> int:
    """Queries waiting for the test's lock on programme_exclusion."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks"
                    " WHERE relation = 'programme_exclusion'::regclass AND NOT granted"
                )
            ).scalar_one()
        )


def outcome(call: Future[httpx.Response]) -> tuple[int, str, str | None]:
    """Status (0: no answer in time), a short body, and Retry-After."""
    try:
        response = call.result()
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__, None
    return response.status_code, response.text[:120], response.headers.get("retry-after")


def test_many_heavy_reads_by_one_user_leave_the_others_served(
    server: Server, engine: Engine
) -> None:
    with httpx.Client(base_url=server.base, timeout=PATIENCE) as http:
        client_id, secret = make_client(engine, "SEL85")
        feed = token(
            http, grant_type="client_credentials", client_id=client_id, client_secret=secret
        )
        pushed = http.post(
            "/api/v1/programmes/SEL85/batches",
            json={"batch_id": "b0", "records": [record("S1", national_id="0101901234")]},
            headers=bearer(feed),
        )
        assert pushed.status_code == 200, pushed.text
        person = pushed.json()["results"][0]["person_id"]
        attacker = token(http, grant_type="password", username="attacker", password=PASSWORD)
        colleague = token(http, grant_type="password", username="colleague", password=PASSWORD)

    lock = engine.connect()
    lock.execute(text("LOCK TABLE programme_exclusion IN ACCESS EXCLUSIVE MODE"))
    with (
        ThreadPoolExecutor(ATTACKERS + 8) as pool,
        httpx.Client(
            base_url=server.base,
            timeout=PATIENCE,
            limits=httpx.Limits(max_connections=ATTACKERS + 8),
        ) as http,
    ):
        try:
            attack = [
                pool.submit(http.get, DUPLICATES, headers=bearer(attacker))
                for _ in range(ATTACKERS)
            ]
            deadline = time.monotonic() + 15
            while blocked_readers(engine) == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # the rest of the attack arrives
            others = {
                "sign-in": pool.submit(
                    http.post,
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "password",
                        "username": "colleague",
                        "password": PASSWORD,
                    },
                ),
                "person read": pool.submit(
                    http.get, f"/api/v1/persons/{person}", headers=bearer(colleague)
                ),
                "feed push": pool.submit(
                    http.post,
                    "/api/v1/programmes/SEL85/batches",
                    json={"batch_id": "b1", "records": [record("S2", national_id="0202802345")]},
                    headers=bearer(feed),
                ),
            }
            served = {name: outcome(call) for name, call in others.items()}
            colleague_heavy = pool.submit(http.get, DUPLICATES, headers=bearer(colleague))
            time.sleep(0.5)
        finally:
            lock.rollback()
            lock.close()
        answers = [outcome(call) for call in attack]
        colleague_answer = outcome(colleague_heavy)

    failed = {name: got for name, got in served.items() if got[0] != 200}
    assert not failed, f"other callers not served during the attack: {failed}"
    errors = [a for a in [*answers, colleague_answer] if a[0] not in (200, *BUSY)]
    assert not errors, f"{len(errors)} heavy reads answered neither 200 nor 429/503: {errors[:3]}"
    assert all(a[2] for a in [*answers, colleague_answer] if a[0] in BUSY), "no Retry-After"
    assert any(a[0] == 200 for a in answers), "no heavy read was served at all"
    assert colleague_answer[0] in (200, 503), colleague_answer


def test_an_exhausted_pool_answers_503_with_retry_after(
    database_url: str, engine: Engine, settings: Settings
) -> None:
    """A request that cannot get a connection in time is told to come back: 503, not 500."""
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_user(engine, "reader", ["oversight"], ["*"])
    tiny = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        with TestClient(create_app(tiny, settings)) as client:
            reader = user_token(client, "reader")
            with tiny.connect():  # the pool's one connection, held
                response = client.get("/api/v1/overview/coverage", headers=bearer(reader))
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "ServiceUnavailable"
            assert int(response.headers["retry-after"]) >= 1
            again = client.get("/api/v1/overview/coverage", headers=bearer(reader))
            assert again.status_code == 200, again.text
    finally:
        tiny.dispose()


def test_a_runaway_heavy_read_is_cancelled_and_frees_its_connection(
    engine: Engine, settings: Settings
) -> None:
    """A heavy read past REGISTRY_HEAVY_READ_TIMEOUT_SECONDS is cancelled: 503, then served."""
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_user(engine, "reader", ["oversight"], ["*"])
    impatient = settings.model_copy(update={"heavy_read_timeout_seconds": 1})
    with TestClient(create_app(engine, impatient)) as client:
        reader = bearer(user_token(client, "reader"))
        with engine.connect() as lock, ThreadPoolExecutor(1) as pool:
            lock.execute(text("LOCK TABLE programme_exclusion IN ACCESS EXCLUSIVE MODE"))
            read = pool.submit(client.get, DUPLICATES, headers=reader)
            try:
                response = read.result(timeout=10)  # a hang fails the test, not the run
            finally:
                lock.rollback()
        assert response.status_code == 503, response.text
        assert "took longer" in response.json()["detail"] and response.headers["retry-after"]
        assert client.get(DUPLICATES, headers=reader).status_code == 200


def test_the_share_per_principal_and_the_ceiling_of_the_registry(tmp_path: Path) -> None:
    """The third read of one caller is theirs to wait for (429); a full registry says 503."""
    limiter = HeavyReadLimiter(per_principal=2, overall=3, slots=SlotFiles(tmp_path))
    first, second = limiter.admit("user:1"), limiter.admit("user:1")
    assert isinstance(first, Admission) and isinstance(second, Admission)
    own = limiter.admit("user:1")
    assert isinstance(own, Refusal) and own.status == 429 and own.retry_after >= 1
    assert isinstance(limiter.admit("user:2"), Admission)
    busy = limiter.admit("user:3")
    assert isinstance(busy, Refusal) and busy.status == 503
    limiter.release(first)
    assert isinstance(limiter.admit("user:3"), Admission)
    assert limiter.in_flight == 3


def test_the_slots_are_shared_by_the_worker_processes(tmp_path: Path) -> None:
    """A read running in one worker counts in another (same lock files); its end frees it."""
    here = HeavyReadLimiter(per_principal=1, overall=2, slots=SlotFiles(tmp_path))
    script = (
        "import sys, time; from pathlib import Path; from api.slots import SlotFiles; "
        "slots = SlotFiles(Path(sys.argv[1])); held = slots.take('principal:user:1', 1); "
        "print(held is not None, flush=True); time.sleep(30)"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "True"
        refused = here.admit("user:1")
        assert isinstance(refused, Refusal) and refused.status == 429
        assert isinstance(here.admit("user:2"), Admission)
    finally:
        other.kill()
        other.wait(timeout=10)
    assert isinstance(here.admit("user:1"), Admission)  # a dead worker's slot is free again


def test_which_requests_are_heavy_reads() -> None:
    heavy = [
        ("GET", "/api/v1/overview/duplicates"),
        ("POST", "/api/v1/overview/reconciliation"),
        ("GET", "/api/v1/audit/events"),
        ("GET", "/api/v1/audit/verify"),
        ("GET", "/api/v1/links/export"),
        ("GET", "/api/v1/programmes/SEL85/quality"),
        ("GET", "/dashboard/duplicates"),
    ]
    light = [
        ("POST", "/api/v1/programmes/SEL85/batches"),
        ("GET", "/api/v1/persons/0190c8a0-0000-7000-8000-000000000000"),
        ("POST", "/api/v1/auth/token"),
        ("GET", "/api/v1/audit/persons/x/accesses"),
        ("GET", "/dashboard"),
    ]
    assert all(is_heavy(method, path) for method, path in heavy)
    assert not any(is_heavy(method, path) for method, path in light)
