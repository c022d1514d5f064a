"""Sessions in headless Chromium: two browsers of one user, sign-out, renewal, the warning."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from registry.access.models import AppUser
from registry.access.sessions import renew_session, start_session
from registry.core.db import transaction
from registry.core.settings import Settings
from tests.dashboard.cdp import Browser, find_chromium
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_browser import shoot, sign_in

COOKIE = "registry_dashboard"


def session_cookie(browser: Browser) -> str:
    return next(c["value"] for c in browser.cookies() if c["name"] == COOKIE)


def put_cookie(browser: Browser, server: LiveServer, value: str) -> None:
    browser.page(
        "Network.setCookie",
        name=COOKIE,
        value=value,
        url=f"{server.base}/dashboard",
        path="/dashboard",
        httpOnly=True,
        sameSite="Strict",
    )


def oversight(engine: Engine) -> tuple[str, int]:
    with transaction(engine) as session:
        user = session.scalars(select(AppUser).where(AppUser.username == "oversight")).one()
        return f"user:{user.id}", user.token_version


def test_signing_out_ends_this_browsers_session_only(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    binary = find_chromium()
    assert binary is not None
    other = Browser(binary)
    try:
        sign_in(browser, live_server, "oversight", "/dashboard/coverage")
        sign_in(other, live_server, "oversight", "/dashboard/coverage")
        assert browser.text("#user") == other.text("#user") == "oversight"
        assert browser.text("#viewer-roles") == "(Oversight)"
        assert (
            browser.js("document.querySelector('#nav-coverage').getAttribute('aria-current')")
            == "page"
        )
        kept = session_cookie(browser)
        browser.click_and_load("#logout")
        assert urlsplit(browser.url).path == "/dashboard/login"
        shoot(browser, "session-signed-out")
        # the signed-out cookie, put back, is refused: the form says the session ended
        put_cookie(browser, live_server, kept)
        browser.goto(f"{live_server.base}/dashboard/coverage")
        assert urlsplit(browser.url).path == "/dashboard/login"
        assert browser.js("document.querySelector('#session-ended') !== null")
        # the other browser of the same user is still signed in
        other.goto(f"{live_server.base}/dashboard/coverage")
        assert urlsplit(other.url).path == "/dashboard/coverage"
        assert other.text("#user") == "oversight"
        shoot(other, "session-other-browser-still-in")
    finally:
        other.close()


def test_the_page_warns_before_the_session_ends_and_renews_in_use(
    world: World,
    live_server: LiveServer,
    browser: Browser,
    engine: Engine,
    settings: Settings,
) -> None:
    sign_in(browser, live_server, "oversight", "/dashboard/quality?programme=SEL85")
    assert "unless you open a page" in browser.text("#session-ends")
    # the warning waits in the page, shown by the stylesheet five minutes before the end
    delay = browser.js(
        "getComputedStyle(document.querySelector('#session-warning')).animationDelay"
    )
    expected = (settings.token_ttl_seconds - 300) // 60 * 60
    assert delay in (f"{expected}s", f"{expected - 60}s")  # whole minutes, rounded down
    assert (
        browser.js(
            "document.querySelector('#session-warning').checkVisibility({visibilityProperty: true})"
        )
        is False
    )

    # a token with a minute left: the warning shows at once, and the page view renews it
    subject, version = oversight(engine)
    late = start_session(
        subject, version, settings, now=int(time.time()) - settings.token_ttl_seconds + 60
    )
    put_cookie(browser, live_server, late.token)
    browser.goto(f"{live_server.base}/dashboard/quality?programme=SEL85&lang=da")
    renewed = session_cookie(browser)
    assert renewed != late.token
    browser.goto(f"{live_server.base}/dashboard/quality?programme=SEL85&lang=da")
    assert session_cookie(browser) == renewed  # fresh now: not re-issued on every view
    assert urlsplit(browser.url).path == "/dashboard/quality"

    # near the absolute end: the page says so and warns at once
    near = start_session(
        subject, version, settings, now=int(time.time()) - settings.session_max_seconds + 120
    )
    final = renew_session(near.session, settings)
    assert final is not None
    put_cookie(browser, live_server, final.token)
    browser.goto(f"{live_server.base}/dashboard/quality?programme=SEL85&lang=da")
    assert "kan ikke forlænges" in browser.text("#session-ends")
    shown = browser.js(
        "new Promise(r => setTimeout(() => r([getComputedStyle(document.querySelector("
        "'#session-warning')).visibility, document.querySelector('#session-warning').className,"
        " getComputedStyle(document.querySelector('#session-warning')).animationName]), 200))"
    )
    assert shown[0] == "visible", shown
    assert "udløber snart" in browser.text("#session-warning")
    shoot(browser, "session-warning-da")
