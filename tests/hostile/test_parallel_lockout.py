"""Parallel password guessing: the lockout holds when every guess arrives at once.

The attack: 40 password grants for one user, all in flight together, against the real server
(uvicorn on loopback, one connection per guess). Checking the lock and counting the failure
were two steps, so every guess that arrived before the first failures were counted had its
password checked: the reporter saw 36 of 40 evaluated, and the right one got a token.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from api.app import create_app
from registry.access import service as access_service
from registry.settings import Settings
from tests.factories import PASSWORD, make_user
from tests.hostile.live import live_server

GUESSES = 40
THRESHOLD = 5


def _grant(base: str, password: str) -> int:
    with httpx.Client(base_url=base, timeout=60) as http:
        response = http.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "victim", "password": password},
        )
        return response.status_code


def _all_at_once(base: str, passwords: list[str]) -> list[int]:
    """Send every grant from its own thread and connection, released together."""
    start = threading.Barrier(len(passwords))
    statuses: list[int] = [0] * len(passwords)

    def guess(i: int) -> None:
        start.wait()
        statuses[i] = _grant(base, passwords[i])

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def _evaluated_failures(engine: Engine) -> int:
    """Refused sign-ins whose password was checked (not refused for the lock)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM audit_event WHERE action = 'auth.login' "
                    "AND outcome = 'failure' AND detail->>'reason' <> 'locked'"
                )
            ).scalar_one()
        )


def test_parallel_guesses_check_at_most_threshold_passwords(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(engine, "victim", ["analyst"], ["*"])
    checked: list[int] = []
    real_verify = access_service.verify_secret

    def counting_verify(secret: str, hashed: str | None) -> Any:
        checked.append(1)
        return real_verify(secret, hashed)

    monkeypatch.setattr(access_service, "verify_secret", counting_verify)
    quick = settings.model_copy(
        update={"login_lock_threshold": THRESHOLD, "login_lock_seconds": 600}
    )
    with live_server(create_app(engine, quick)) as base:
        statuses = _all_at_once(base, [f"wrong guess number {i:02d}" for i in range(GUESSES)])
        right = _grant(base, PASSWORD)
    assert statuses == [401] * GUESSES
    assert _evaluated_failures(engine) <= THRESHOLD
    assert len(checked) <= THRESHOLD, f"{len(checked)} of {GUESSES} passwords were checked"
    assert right == 401, "the right password, sent after the guesses, got a token"
