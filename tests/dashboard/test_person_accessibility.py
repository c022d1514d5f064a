"""The person pages, in both languages and at both widths: no serious or critical axe finding.

Each page state is photographed per role at 1400 and 420 px into test-artifacts/dashboard/.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.dashboard.axe import ARTIFACTS, WIDTHS, Violation, check_page, violations
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_person_browser import fresh_sign_in
from tests.persons.population import People, add_people


@pytest.fixture
def people(client: TestClient, setup: Setup, engine: Engine) -> People:  # noqa: F811
    return add_people(client, setup, engine)


def check_results(browser: Browser, server: LiveServer, lang: str, name: str) -> list[Violation]:
    """The search results (a POST answer) at each width: screenshot and axe."""
    found: list[Violation] = []
    for width in WIDTHS:
        browser.set_width(width)
        browser.goto(f"{server.base}/dashboard/persons?lang={lang}")
        browser.fill("#purpose", "case")
        browser.fill("#family_name", "Kierkegaard")
        browser.fill("#birth_date", "1985-03-11")
        browser.click_and_load("#find")
        assert browser.js("document.querySelectorAll('#results tr.result').length") >= 2
        shot = browser.screenshot(ARTIFACTS / f"{name}-{width}.png")
        assert shot.stat().st_size > 5_000
        found.extend(violations(browser, name, width))
    return found


@pytest.mark.parametrize("role", ["oversight", "steward"])
def test_person_pages_pass_axe_in_both_languages_and_widths(
    people: People, live_server: LiveServer, browser: Browser, role: str
) -> None:
    fresh_sign_in(browser, live_server, role, "/dashboard/persons")
    found: list[Violation] = []
    base = live_server.base
    for lang in ("en", "da"):
        pages = {
            "search": f"/dashboard/persons?lang={lang}",
            "purpose": f"/dashboard/persons/{people.soeren}?lang={lang}",
            "page": f"/dashboard/persons/{people.soeren}?purpose=case&as_of=2024-06-01&lang={lang}",
        }
        for name, path in pages.items():
            found += check_page(browser, base + path, f"person-{role}-{name}-{lang}")
        found += check_results(browser, live_server, lang, f"person-{role}-results-{lang}")
    assert found == [], _report(found)
