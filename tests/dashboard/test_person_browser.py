"""Person search and person page in headless Chromium, as oversight and as a steward.

Screenshots go to test-artifacts/dashboard/ (person-*.png).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.dashboard.axe import ARTIFACTS
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_browser import sign_in
from tests.factories import make_user
from tests.persons.population import ANNA_ID, SOEREN_ID, People, add_people


@pytest.fixture
def people(client: TestClient, setup: Setup, engine: Engine) -> People:  # noqa: F811
    return add_people(client, setup, engine)


def shoot(browser: Browser, name: str) -> None:
    for width in (1400, 420):
        browser.set_width(width)
        path = browser.screenshot(ARTIFACTS / f"{name}-{width}.png")
        assert path.stat().st_size > 5_000, f"{name}: the screenshot is (nearly) empty"
    browser.set_width(1400)


def fresh_sign_in(browser: Browser, server: LiveServer, username: str, start: str) -> None:
    """Forget any earlier session, then sign in through the form and land on `start`."""
    browser.page("Network.clearBrowserCookies")
    sign_in(browser, server, username, start)


def search(browser: Browser, **fields: str) -> None:
    """Fill the search form (purpose first) and send it."""
    browser.fill("#purpose", fields.pop("purpose", "case"))
    for name, value in fields.items():
        browser.fill(f"#{name}", value)
    browser.click_and_load("#find")


def rows(browser: Browser) -> list[str]:
    found: list[str] = browser.js(
        "Array.from(document.querySelectorAll('#results tr.result')).map(r => r.dataset.person)"
    )
    return found


def levels(browser: Browser, person: str) -> dict[str, str]:
    pairs: list[list[str]] = browser.js(
        f"Array.from(document.querySelectorAll('tr[data-person=\"{person}\"] li')).map("
        "li => [li.dataset.field, li.dataset.level])"
    )
    return dict((a, b) for a, b in pairs)


def reads(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT actor, purpose, person_ids FROM audit_event WHERE action = :a"),
                {"a": action},
            ).mappings()
        )


def test_oversight_finds_a_person_by_id_and_by_a_misspelled_name_and_opens_the_page(
    people: People, live_server: LiveServer, browser: Browser, engine: Engine
) -> None:
    browser.set_width(1400)
    fresh_sign_in(browser, live_server, "oversight", "/dashboard/persons")
    assert urlsplit(browser.url).path == "/dashboard/persons"
    shoot(browser, "person-oversight-search-form")

    search(browser, national_id=SOEREN_ID)
    assert rows(browser) == [people.soeren]
    assert SOEREN_ID not in browser.url  # a POST: the ID is in no URL
    shoot(browser, "person-oversight-search-by-id")

    browser.goto(f"{live_server.base}/dashboard/persons")
    search(browser, given_name="Soeren", family_name="Kirkegaard", birth_date="1985-11-03")
    found = rows(browser)
    assert people.soeren in found[:2]
    assert levels(browser, people.soeren)["birth_date"] == "day_month_swap"
    assert levels(browser, people.soeren)["given_name"] == "exact"
    shoot(browser, "person-oversight-search-by-name")

    browser.click_and_load(f'tr[data-person="{people.soeren}"] a.open-person')
    assert urlsplit(browser.url).path == f"/dashboard/persons/{people.soeren}"
    assert browser.text("#person-id") == people.soeren
    assert "Søren Kierkegaard" in browser.text("h1")
    assert browser.js("document.querySelectorAll('svg.timeline g.episode').length") == 2
    assert browser.js("document.querySelectorAll('#active tbody tr').length") == 2
    assert browser.js("document.querySelector('#merge-form') === null")  # oversight reads
    width = browser.js("document.querySelector('svg.timeline').getBoundingClientRect().width")
    assert width <= 360
    shoot(browser, "person-oversight-page")
    opened = [r for r in reads(engine, "person.read") if people.soeren in map(str, r["person_ids"])]
    assert opened and opened[-1]["purpose"] == "dashboard:case"


def test_a_steward_merges_and_splits_from_the_person_page_and_the_history_shows_it(
    people: People, live_server: LiveServer, browser: Browser
) -> None:
    browser.set_width(1400)
    fresh_sign_in(browser, live_server, "steward", f"/dashboard/persons/{people.soeren}")
    assert browser.js("document.querySelector('#purpose-form') !== null")
    browser.fill("#purpose", "linkage")
    browser.click_and_load("#open")
    assert "purpose=linkage" in browser.url

    browser.fill("#merge-other", people.regine)
    browser.fill("#merge-reason", "Same person: registered before her CPR number was known")
    browser.click_and_load("#do-merge")
    assert browser.js("document.querySelector('#done') !== null")
    merge = browser.js(
        "(() => { const r = document.querySelector('#history tr[data-kind=merge]');"
        " return r && [r.querySelector('.reason').textContent, r.textContent]; })()"
    )
    assert merge is not None and merge[0].startswith("Same person")
    assert "user:" in merge[1] or "steward" in merge[1]
    shoot(browser, "person-steward-after-merge")

    browser.js(
        "document.querySelectorAll('#split-form input[type=checkbox]').forEach("
        "c => { c.checked = c.value === 'SEL85/R1'; })"
    )
    browser.fill("#split-reason", "Linked by mistake")
    browser.click_and_load("#do-split")
    assert browser.js("document.querySelector('#history tr[data-kind=split]') !== null")
    assert browser.text("#history tr[data-kind=split] .reason") == "Linked by mistake"
    assert browser.js("document.querySelector('#new-person') !== null")
    shoot(browser, "person-steward-after-split")


def test_a_user_of_another_region_gets_nothing(
    people: People, live_server: LiveServer, browser: Browser, engine: Engine
) -> None:
    make_user(engine, "oversight_1085", ["oversight"], ["1085"])
    browser.set_width(1400)
    fresh_sign_in(browser, live_server, "steward", "/dashboard/persons")  # region 1084
    search(browser, national_id=ANNA_ID)
    assert rows(browser) == [] and browser.js("document.querySelector('#no-results') !== null")
    browser.goto(f"{live_server.base}/dashboard/persons")
    search(browser, given_name="Anna", family_name="Jensen", birth_date="1990-07-04")
    assert rows(browser) == []
    shoot(browser, "person-steward-other-region-search")
    browser.goto(f"{live_server.base}/dashboard/persons/{people.anna}?purpose=case")
    assert browser.js("document.querySelector('#error') !== null")
    assert "Jensen" not in browser.text("main")
    shoot(browser, "person-steward-other-region-page")

    fresh_sign_in(browser, live_server, "oversight_1085", "/dashboard/persons")
    search(browser, national_id=SOEREN_ID)
    assert rows(browser) == []
    browser.goto(f"{live_server.base}/dashboard/persons/{people.soeren}?purpose=case")
    assert "Kierkegaard" not in browser.text("main")
    names = json.dumps([str(p) for r in reads(engine, "person.search") for p in r["person_ids"]])
    assert people.anna not in names
