"""A declared system switch on the feed quality page: per reader role, both languages, both
widths; no serious or critical axe finding; each page photographed into test-artifacts/."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.dashboard.axe import Violation, check_page
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in
from tests.factories import bearer

PAGE = "/dashboard/quality?programme=SEL85"
#: The quality page's readers among people (a feed client reads the API's report).
READERS = ("oversight", "steward")


def declare(client: TestClient, world: World) -> None:
    """SEL85 moves to a new MIS on 2026-03-01: its twelve records A0..A11 become N0..N11."""
    keys = [{"old_source_id": f"A{i}", "new_source_id": f"N{i}"} for i in range(12)]
    answer = client.post(
        "/api/v1/programmes/SEL85/switches",
        json={"switch_date": "2026-03-01", "keys": keys},
        headers=bearer(world.setup.sel85),
    )
    assert answer.status_code == 201, answer.text


def test_the_quality_page_shows_a_declared_switch_and_passes_axe(
    client: TestClient, world: World, live_server: LiveServer, browser: Browser
) -> None:
    declare(client, world)
    found: list[Violation] = []
    for role in READERS:
        browser.set_width(1400)
        sign_in(browser, live_server, role, PAGE)
        for lang, words in (
            ("en", "System switch on 2026-03-01: 12 records re-keyed"),
            ("da", "Systemskifte den 2026-03-01: 12 poster med nye nøgler"),
        ):
            url = f"{live_server.base}{PAGE}&lang={lang}"
            found += check_page(browser, url, f"{role}-quality-switch-{lang}")
            assert browser.text("#declared-breaks") == words
        browser.click_and_load("#logout")
    assert found == [], _report(found)


def test_without_a_switch_the_page_says_none_declared(
    client: TestClient, world: World, live_server: LiveServer, browser: Browser
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "oversight", PAGE)
    browser.goto(f"{live_server.base}{PAGE}&lang=en")
    assert browser.text("#no-declared-breaks") == "None found."
    browser.click_and_load("#logout")
