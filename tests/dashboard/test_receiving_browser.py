"""Receiving in headless Chromium: an oversight user reads suspended and pending beside the
counts in Danish, breaks coverage down by municipality through the form, reads the trend's
beside table, and opens a quality finding (the trail names exactly its records' persons);
an analyst sees a small pending count as the suppression mark. Screenshots per role at 1400
and 420 px."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LATE, LiveServer, World
from tests.dashboard.test_browser import shoot, sign_in
from tests.dashboard.test_overview_browser import choose, last_event_id, named_since
from tests.dashboard.test_receiving_pages import add_statuses

CELL = "document.querySelector('[data-cell=\"{}\"]').dataset.value"


def test_receiving_pages_in_the_browser(
    client: TestClient,
    world: World,
    live_server: LiveServer,
    browser: Browser,
    engine: Engine,
) -> None:
    add_statuses(client, world)
    browser.set_width(1400)
    sign_in(browser, live_server, "oversight", f"/dashboard/coverage?as_of={LATE}&lang=da")
    assert browser.js(CELL.format("programme|SEL85|suspended")) == "6"
    assert browser.js(CELL.format("programme|SEL85|pending")) == "2"
    assert "Suspenderet" in browser.text("#coverage-programme thead")
    assert "modtagere på dagen" in browser.text("#receiving-note")
    choose(browser, "#breakdown", "municipality")
    browser.click_and_load("#show")
    assert "breakdown=municipality" in browser.url
    assert "157 Gentofte" in browser.text("#coverage-breakdown")
    for width in (1400, 420):
        browser.set_width(width)
        browser.goto(browser.url)
        shoot(browser, f"receiving-coverage-oversight-da-{width}")
    browser.set_width(1400)
    browser.goto(f"{live_server.base}/dashboard/trends?from=2024-06-01&to={LATE}&lang=da")
    assert "Suspenderet" in browser.text("#trends-beside")
    shoot(browser, "receiving-trends-oversight-da-1400")

    # the quality report: counts only; the drill-down names the minor's record and its person
    browser.goto(f"{live_server.base}/dashboard/quality?programme=SEL85&lang=da")
    assert "Under 18 år i en ydelse til voksne" in browser.text("#findings-table")
    for width in (1400, 420):
        browser.set_width(width)
        browser.goto(browser.url)
        shoot(browser, f"receiving-quality-oversight-da-{width}")
    browser.set_width(1400)
    before = last_event_id(engine)
    browser.click_and_load("#finding-under_18_in_adult_benefit")
    assert browser.text("#finding-records tbody") == "M1"
    shoot(browser, "receiving-finding-oversight-da-1400")
    with engine.connect() as conn:
        holder = conn.execute(
            text("SELECT CAST(person_id AS text) FROM source_record WHERE source_id = 'M1'")
        ).scalar_one()
    events = named_since(engine, before)
    assert [[str(p) for p in e.person_ids] for e in events] == [[holder]]
    browser.click_and_load("#logout")

    # the analyst: the two pending persons are hidden, drawn as the mark
    sign_in(browser, live_server, "analyst", f"/dashboard/coverage?as_of={LATE}&lang=da")
    assert browser.js(CELL.format("programme|SEL85|pending")) == ""
    assert browser.js(CELL.format("programme|SEL85|suspended")) == "6"
    for width in (1400, 420):
        browser.set_width(width)
        browser.goto(browser.url)
        shoot(browser, f"receiving-coverage-analyst-da-{width}")
    browser.click_and_load("#logout")
