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
from registry.core.settings import Settings
from tests.factories import PASSWORD, make_user
from tests.hostile.live import live_server

GUESSES = 40
THRESHOLD = 5


def _grant(base: str, password: str, via: str) -> int:
    """One sign-in on a connection of its own: the API's password grant, the dashboard form,
    or (via a token) the own-password change, which checks the current password."""
    with httpx.Client(base_url=base, timeout=60) as http:
        if via.startswith("Bearer "):
            response = http.patch(
                "/api/v1/users/me",
                json={"current_password": password, "new_password": "a fresh long passphrase"},
                headers={"Authorization": via},
            )
        elif via == "api":
            response = http.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "victim", "password": password},
            )
        else:
            response = http.post(
                "/dashboard/login",
                data={"username": "victim", "password": password},
                headers={"Origin": base},
            )
        return response.status_code


def _all_at_once(base: str, passwords: list[str], via: str) -> list[int]:
    """Send every grant from its own thread and connection, released together."""
    start = threading.Barrier(len(passwords))
    statuses: list[int] = [0] * len(passwords)

    def guess(i: int) -> None:
        start.wait()
        statuses[i] = _grant(base, passwords[i], via)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def _evaluated_failures(engine: Engine, action: str = "auth.login") -> int:
    """Refused sign-ins whose password was checked (not refused for the lock)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM audit_event WHERE action = :action "
                    "AND outcome = 'failure' AND detail->>'reason' <> 'locked'"
                ),
                {"action": action},
            ).scalar_one()
        )


@pytest.mark.parametrize("via", ["api", "dashboard"])
def test_parallel_guesses_check_at_most_threshold_passwords(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, via: str
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
        guesses = [f"wrong guess number {i:02d}" for i in range(GUESSES)]
        statuses = _all_at_once(base, guesses, via)
        right = _grant(base, PASSWORD, via)
    assert statuses == [401] * GUESSES
    assert _evaluated_failures(engine) <= THRESHOLD
    assert len(checked) <= THRESHOLD, f"{len(checked)} of {GUESSES} passwords were checked"
    assert right == 401, "the right password, sent after the guesses, got a token"


def test_parallel_guesses_of_the_current_password_are_throttled_too(
    engine: Engine, settings: Settings
) -> None:
    """A stolen token must not let its holder guess the password (to keep the account)."""
    make_user(engine, "victim", ["analyst"], ["*"])
    quick = settings.model_copy(
        update={"login_lock_threshold": THRESHOLD, "login_lock_seconds": 600}
    )
    with live_server(create_app(engine, quick)) as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "victim", "password": PASSWORD},
        ).json()["access_token"]
        via = f"Bearer {token}"
        guesses = [f"wrong guess number {i:02d}" for i in range(GUESSES)]
        statuses = _all_at_once(base, guesses, via)
        right = _grant(base, PASSWORD, via)
    assert statuses == [401] * GUESSES
    assert _evaluated_failures(engine, "user.password_change") <= THRESHOLD
    assert right == 401, "the right password, sent after the guesses, was accepted"
