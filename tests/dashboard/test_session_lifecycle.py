"""Dashboard sessions over HTTP: one session per browser, renewal, the absolute limit, notices."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from registry.access.models import AppUser
from registry.access.sessions import (
    DashboardSession,
    end_session,
    read_session,
    renew_session,
    session_audience,
    start_session,
)
from registry.access.tokens import decode_token, issue_token
from registry.core.db import transaction
from registry.core.errors import NotAuthenticated
from registry.core.settings import Settings
from tests.dashboard.conftest import World
from tests.dashboard.test_pages import HTML, SAME, sign_in
from tests.factories import bearer

COOKIE = "registry_dashboard"


def browser_of(client: TestClient, username: str) -> TestClient:
    """A second browser (its own cookie jar) signed in as `username`."""
    other = TestClient(client.app)
    sign_in(other, username)
    return other


def oversight_version(engine: Engine) -> tuple[str, int]:
    with transaction(engine) as session:
        user = session.scalars(select(AppUser).where(AppUser.username == "oversight")).one()
        return f"user:{user.id}", user.token_version


def opens(client: TestClient, cookie: str | None = None) -> int:
    if cookie is not None:
        client.cookies.set(COOKIE, cookie, path="/dashboard")
    return client.get("/dashboard/coverage", headers=HTML, follow_redirects=False).status_code


def test_sign_out_ends_that_browsers_session_only(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "oversight")
    other = browser_of(client, "oversight")
    mine = client.cookies.get(COOKIE)
    assert mine and other.cookies.get(COOKIE) and mine != other.cookies.get(COOKIE)

    done = client.post("/dashboard/logout", headers=SAME, follow_redirects=False)
    assert done.status_code == 303
    # this browser's cookie is gone, and replaying its value is refused...
    assert opens(client) == 303
    replay = opens(client, mine)
    assert replay == 303
    script = client.get("/dashboard/coverage", follow_redirects=False)
    assert script.status_code == 401
    # ...while the other browser of the same user goes on, and so do the user's API tokens
    assert opens(other) == 200
    api = client.get("/api/v1/overview/coverage", headers=bearer(world.setup.oversight))
    assert api.status_code == 200
    with engine.connect() as conn:
        ended = conn.execute(text("SELECT count(*) FROM dashboard_session_end")).scalar_one()
        detail = conn.execute(
            text("SELECT detail FROM audit_event WHERE action = 'auth.logout' ORDER BY id DESC")
        ).scalar()
    assert ended == 1
    assert detail["via"] == "dashboard" and detail["ended"] == "session"


def test_a_dashboard_token_is_no_api_token(client: TestClient, world: World) -> None:
    sign_in(client, "oversight")
    token = client.cookies.get(COOKIE)
    assert token
    api = client.get("/api/v1/overview/coverage", headers=bearer(token))
    assert api.status_code == 401
    # and an API token in the cookie is no session
    assert opens(TestClient(client.app), world.setup.oversight) == 303


def test_a_page_late_in_the_tokens_life_renews_the_cookie(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    subject, version = oversight_version(engine)
    ttl = settings.token_ttl_seconds
    started = int(time.time()) - ttl + 60  # one minute left
    old = start_session(subject, version, settings, now=started)
    client.cookies.set(COOKIE, old.token, path="/dashboard")
    page = client.get("/dashboard/coverage", headers=HTML)
    assert page.status_code == 200
    set_cookie = page.headers.get("set-cookie", "")
    assert set_cookie.startswith(f"{COOKIE}=") and "httponly" in set_cookie.lower()
    new = set_cookie.split(";", 1)[0].split("=", 1)[1]
    claims = decode_token(new, settings, session_audience(settings))
    assert claims["sid"] == old.session.sid and claims["sst"] == started
    assert claims["exp"] >= int(time.time()) + ttl - 5
    # a fresh token is not renewed on every view
    fresh = start_session(subject, version, settings)
    client.cookies.set(COOKIE, fresh.token, path="/dashboard")
    assert "set-cookie" not in client.get("/dashboard/coverage", headers=HTML).headers


def test_renewal_never_passes_the_absolute_limit(engine: Engine, settings: Settings) -> None:
    now = int(time.time())
    started = now - settings.session_max_seconds + 120  # two minutes of the session left
    session = DashboardSession(
        "user:1", 0, "s" * 24, started, now + 60, started + settings.session_max_seconds
    )
    renewed = renew_session(session, settings, now)
    assert renewed is not None and renewed.session.expires == session.ends
    assert renewed.session.final
    assert renew_session(renewed.session, settings, now + 100) is None


def test_a_session_past_its_absolute_limit_is_refused_even_if_renewed(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    subject, version = oversight_version(engine)
    now = int(time.time())
    # a token as a renewal without the limit would make it: fresh expiry, old session start
    token, _ = issue_token(
        subject,
        settings,
        version,
        audience=session_audience(settings),
        now=now,
        extra={"sid": "x" * 24, "sst": now - settings.session_max_seconds - 1},
    )
    assert opens(client, token) == 303
    with transaction(engine) as session:
        try:
            read_session(session, token, settings)
        except NotAuthenticated as exc:
            assert "ended" in exc.detail
        else:
            raise AssertionError("a session past its absolute limit was accepted")


def test_a_forged_or_partial_session_token_is_refused(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    subject, version = oversight_version(engine)
    now = int(time.time())
    for extra in ({}, {"sid": "x" * 24}, {"sst": now}, {"sid": "", "sst": now}, {"sid": 5}):
        token, _ = issue_token(
            subject, settings, version, audience=session_audience(settings), extra=extra
        )
        assert opens(TestClient(client.app), token) == 303, extra


def test_ended_sessions_are_purged_once_past_their_end(engine: Engine, settings: Settings) -> None:
    now = int(time.time())
    old = DashboardSession("user:1", 0, "old" + "x" * 20, now - 9000, now - 8000, now - 10)
    new = DashboardSession("user:1", 0, "new" + "x" * 20, now, now + 900, now + 28800)
    with transaction(engine) as session:
        end_session(session, old)
    with transaction(engine) as session:
        end_session(session, new)
        end_session(session, new)  # twice is once
    with engine.connect() as conn:
        left = conn.execute(text("SELECT sid FROM dashboard_session_end")).scalars().all()
    assert left == [new.sid]


def test_the_page_states_when_the_session_ends_and_schedules_the_warning(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "oversight")
    page = client.get("/dashboard/coverage", headers=HTML).text
    ends = re.search(r'<p id="session-ends">(.*?)</p>', page, re.S)
    assert ends and "unless you open a page" in ends.group(1)
    assert re.search(r'<time datetime="[^"]+">\d\d:\d\d</time>', ends.group(1))
    # the warning is there, shown by the stylesheet five minutes before the end (no script)
    warn = re.search(r'class="session-warning warn-after-(\d+)"', page)
    assert warn and int(warn.group(1)) in (
        (settings.token_ttl_seconds - 300) // 60,
        (settings.token_ttl_seconds - 300) // 60 - 1,  # a second passed: rounded down
    )
    css = client.get("/dashboard/static/frame.css").text
    assert f".session-warning.warn-after-{warn.group(1)} {{ animation-delay:" in css
    # near the absolute end: the page says it cannot be extended, and warns at once
    subject, version = oversight_version(engine)
    late = start_session(
        subject, version, settings, now=int(time.time()) - settings.session_max_seconds + 120
    )
    renewed = renew_session(late.session, settings)
    assert renewed is not None
    client.cookies.set(COOKIE, renewed.token, path="/dashboard")
    danish = client.get("/dashboard/coverage?lang=da", headers=HTML).text
    assert "kan ikke forlænges" in danish
    assert 'class="session-warning warn-after-0"' in danish


def test_an_ended_session_lands_on_the_form_saying_so(client: TestClient, world: World) -> None:
    sign_in(client, "oversight")
    token = client.cookies.get(COOKIE)
    client.post("/dashboard/logout", headers=SAME, follow_redirects=False)
    client.cookies.set(COOKIE, token or "", path="/dashboard")
    gone = client.get("/dashboard/coverage?lang=da", headers=HTML, follow_redirects=False)
    assert gone.status_code == 303 and "session=ended" in gone.headers["location"]
    form = client.get(gone.headers["location"], headers=HTML)
    assert 'id="session-ended"' in form.text and "Din session er udløbet" in form.text


def test_disabling_the_user_still_ends_every_session(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "oversight")
    other = browser_of(client, "oversight")
    with transaction(engine) as session:
        session.execute(
            text(
                "UPDATE app_user SET token_version = token_version + 1 WHERE username = 'oversight'"
            )
        )
    assert opens(client) == 303 and opens(other) == 303
