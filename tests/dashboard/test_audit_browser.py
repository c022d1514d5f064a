"""An auditor in headless Chromium finds a steward's read of a person: by the steward's name and
the person, with the purpose stated; who accessed that person; the chain verified on demand."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_audit_pages import steward_reads
from tests.dashboard.test_browser import shoot, sign_in

EVENT_ROWS = """Array.from(document.querySelectorAll('#trail tr.event')).map(r => ({
    actor: r.querySelector('.actor-name').textContent.trim(),
    action: r.querySelector('.action').textContent.trim(),
    purpose: r.querySelector('.purpose').textContent.trim()}))"""


def test_an_auditor_finds_the_stewards_read_of_a_person(
    client: TestClient, world: World, live_server: LiveServer, browser: Browser, engine: Any
) -> None:
    person = steward_reads(client, world, "case 4711: benefit check")
    browser.set_width(1400)
    sign_in(browser, live_server, "auditor", "/dashboard/audit")
    assert urlsplit(browser.url).path == "/dashboard/audit"
    assert browser.text("#user") == "auditor"

    # filter by the steward's name and the person
    browser.fill("form#trail-filters #user", "steward")
    browser.fill("form#trail-filters #person_id", person)
    browser.click_and_load("#filter")
    rows = browser.js(EVENT_ROWS)
    assert {"actor": "steward", "action": "person.read", "purpose": "case 4711: benefit check"} in (
        rows
    )
    assert {r["actor"] for r in rows} == {"steward"}
    shoot(browser, "auditor-trail-filtered")

    # the CSV of the same filter, as Danish Excel opens it
    browser.goto(browser.url.replace("lang=en", "lang=da"))
    downloaded = browser.download("#csv-audit").read_bytes().decode("utf-8")
    assert downloaded.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(downloaded[1:]), delimiter=";"))
    assert any(r["action"] == "person.read" and r["actor_name"] == "steward" for r in table)

    # who accessed the person: the steward, with the purpose
    browser.goto(f"{live_server.base}/dashboard/audit/accesses?person_id={person}&lang=en")
    accesses = browser.js(
        "Array.from(document.querySelectorAll('#accesses tr.access')).map(r => r.textContent)"
    )
    assert any("steward" in a and "person.read" in a and "case 4711" in a for a in accesses)
    shoot(browser, "auditor-accesses")

    # the chain, verified when asked
    browser.goto(f"{live_server.base}/dashboard/audit/chain?lang=en")
    assert browser.js("!!document.querySelector('#never-verified')")
    browser.click_and_load("#verify")
    assert urlsplit(browser.url).path == "/dashboard/audit/chain"
    assert browser.text("#chain-state") == "Intact"
    shoot(browser, "auditor-chain")
    browser.click_and_load("#logout")
