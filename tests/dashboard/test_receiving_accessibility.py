"""The pages receiving touched, per role, both languages, 1400 and 420 px: no serious or
critical axe finding; each page photographed into test-artifacts/dashboard/."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.dashboard.axe import Violation, check_page
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LATE, LiveServer, World
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in
from tests.dashboard.test_receiving_pages import add_statuses

ROLE_PAGES = {
    "oversight": {
        "receiving-coverage": f"/dashboard/coverage?as_of={LATE}&breakdown=municipality",
        "receiving-trends": f"/dashboard/trends?from=2024-01-01&to={LATE}",
        "receiving-quality": "/dashboard/quality?programme=SEL85",
        "receiving-finding": (
            "/dashboard/quality?programme=SEL85&finding=under_18_in_adult_benefit"
        ),
    },
    "analyst": {
        "receiving-coverage": f"/dashboard/coverage?as_of={LATE}&breakdown=target_group",
        "receiving-trends": f"/dashboard/trends?from=2024-01-01&to={LATE}",
    },
    "steward": {"receiving-quality": "/dashboard/quality?programme=SEL85"},
}


def test_receiving_pages_pass_axe_per_role_language_and_width(
    client: TestClient, world: World, live_server: LiveServer, browser: Browser
) -> None:
    add_statuses(client, world)
    found: list[Violation] = []
    for role, pages in ROLE_PAGES.items():
        browser.set_width(1400)
        sign_in(browser, live_server, role, "/dashboard")
        for lang in ("en", "da"):
            for name, path in pages.items():
                url = f"{live_server.base}{path}&lang={lang}"
                found += check_page(browser, url, f"{role}-{name}-{lang}")
        browser.click_and_load("#logout")
    assert found == [], _report(found)
