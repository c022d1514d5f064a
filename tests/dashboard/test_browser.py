"""The dashboard in headless Chromium: sign in, read the heat map, change the date, download.

Screenshots of every page go to test-artifacts/dashboard/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlsplit

from tests.dashboard.axe import ARTIFACTS
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import EARLY, LATE, LiveServer, World, add_reviews
from tests.factories import PASSWORD

HEATMAP_CELLS = """Array.from(document.querySelectorAll('svg.heatmap g.cell')).map(g => [
    g.dataset.row, g.dataset.col, g.querySelector('text').textContent.trim(),
    g.classList.contains('suppressed')])"""


def shoot(browser: Browser, name: str) -> None:
    path = browser.screenshot(ARTIFACTS / f"{name}.png")
    assert path.stat().st_size > 5_000, f"{name}: the screenshot is (nearly) empty"


def sign_in(browser: Browser, server: LiveServer, username: str, start: str) -> None:
    """Open a page anonymously, land on the form, sign in, come back to the page."""
    browser.goto(server.base + start)
    assert urlsplit(browser.url).path == "/dashboard/login"
    browser.fill("#username", username)
    browser.fill("#password", PASSWORD)
    browser.click_and_load("#sign-in")


def heatmap(browser: Browser) -> dict[tuple[str, str], tuple[str, bool]]:
    return {(a, b): (text, hidden) for a, b, text, hidden in browser.js(HEATMAP_CELLS)}


def as_numbers(api: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (a, b): "·" if v is None else str(v)
        for a, row in api["matrix"].items()
        for b, v in row.items()
    }


def test_oversight_reads_the_dashboard_in_a_browser(
    world: World, live_server: LiveServer, browser: Browser, engine: Any
) -> None:
    add_reviews(engine)
    browser.goto(live_server.base + "/dashboard/login")
    shoot(browser, "login")
    sign_in(browser, live_server, "oversight", f"/dashboard/overlaps?as_of={LATE}")
    assert urlsplit(browser.url).path == "/dashboard/overlaps"
    assert browser.text("#user") == "oversight"

    # the heat map shows the API's numbers
    late = live_server.api("/api/v1/overview/overlaps", world.setup.oversight, as_of=LATE)
    shown = heatmap(browser)
    assert {k: text for k, (text, _) in shown.items()} == as_numbers(late)
    assert shown[("SEL85", "SEL104")] == ("12", False)
    shoot(browser, "overlaps")

    # an earlier date through the date form: persons 8-11 had not started SEL104 yet
    browser.fill("#as_of", EARLY)
    browser.click_and_load("#show")
    assert f"as_of={EARLY}" in browser.url
    early = live_server.api("/api/v1/overview/overlaps", world.setup.oversight, as_of=EARLY)
    shown = heatmap(browser)
    assert {k: text for k, (text, _) in shown.items()} == as_numbers(early)
    assert shown[("SEL85", "SEL104")] == ("8", False)
    assert shown[("SEL104", "SEL104")] == ("8", False)
    assert shown[("SEL85", "SEL85")] == ("12", False)

    # the CSV the browser downloads holds the same matrix
    downloaded = browser.download("#csv-overlaps")
    rows = list(csv.DictReader(io.StringIO(downloaded.read_text(encoding="utf-8"))))
    matrix = {(r["programme"], r["other"]): r["persons"] for r in rows if r["section"] == "matrix"}
    assert matrix == as_numbers(early)

    # the cookie is out of the page's reach, and strict
    cookie = next(c for c in browser.cookies() if c["name"] == "registry_dashboard")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    assert "registry_dashboard" not in browser.js("document.cookie")

    # every page, with a screenshot each
    pages = {
        "coverage": (f"/dashboard/coverage?as_of={LATE}", "#total-persons", "12"),
        "counts": (f"/dashboard/counts?as_of={LATE}", "#counts-table tbody tr:last-child td", "2"),
        "trends": ("/dashboard/trends?from=2023-11-01&to=2024-08-31", "#trends-table", "2024-06"),
        "duplicates": (f"/dashboard/duplicates?as_of={LATE}", "#exclusive-table td", "12"),
        "quality": ("/dashboard/quality?programme=SEL85", "#batches-table tbody th", "a1"),
        "review": ("/dashboard/review", "#pending", "2"),
        "home": ("/dashboard", "main", "Coverage"),
        "overlaps-da": (f"/dashboard/overlaps?as_of={LATE}&lang=da", "h1", "Overlap mellem"),
    }
    for name, (path, selector, expected) in pages.items():
        browser.goto(live_server.base + path)
        assert expected in browser.text(selector), (name, browser.text(selector))
        shoot(browser, name)
    assert browser.js("document.querySelectorAll('svg.lines polyline').length") == 0  # da page
    browser.goto(live_server.base + "/dashboard/trends?from=2023-11-01&to=2024-08-31")
    assert browser.js("document.querySelectorAll('svg.lines g.series').length") == 3

    # sign out: back to the form, and the pages are closed again
    browser.click_and_load("#logout")
    assert urlsplit(browser.url).path == "/dashboard/login"
    browser.goto(live_server.base + "/dashboard/overlaps")
    assert urlsplit(browser.url).path == "/dashboard/login"


def test_analyst_sees_suppressed_cells_in_a_browser(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    sign_in(browser, live_server, "analyst", f"/dashboard/overlaps?as_of={LATE}")
    api = live_server.api("/api/v1/overview/overlaps", world.setup.analyst, as_of=LATE)
    shown = heatmap(browser)
    assert {k: text for k, (text, _) in shown.items()} == as_numbers(api)
    assert shown[("SEL82", "SEL85")] == ("·", True)
    assert any(not hidden for _, hidden in shown.values())  # not everything is hidden
    assert "suppressed" in browser.text("#suppressed-legend")
    shoot(browser, "overlaps-analyst")
    browser.goto(live_server.base + f"/dashboard/counts?as_of={LATE}")
    assert browser.js("document.querySelectorAll('svg.bars g.bar.suppressed').length") >= 1
    shoot(browser, "counts-analyst")
    browser.click_and_load("#logout")


def test_a_user_without_rights_is_refused_in_a_browser(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    browser.goto(live_server.base + "/dashboard/login")
    browser.fill("#username", "auditor")
    browser.fill("#password", "not the password")
    browser.click_and_load("#sign-in")
    assert browser.js("document.querySelector('#login-error') !== null")
    shoot(browser, "login-failed")
    sign_in(browser, live_server, "auditor", "/dashboard/overlaps")
    assert browser.text("#refused") == "Access refused"
    assert browser.js("document.querySelector('svg.heatmap') === null")
    shoot(browser, "refused")
    browser.click_and_load("#logout")
