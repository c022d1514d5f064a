"""The money and movement pages per role, both languages, 1400 and 420 px: no serious or
critical axe finding; each page photographed into test-artifacts/dashboard/.
"""

from __future__ import annotations

from tests.dashboard.axe import Violation, check_page
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in
from tests.money.conftest import Money, money, setup  # noqa: F401  (the fixtures)

PAGES = {
    "spending": "/dashboard/spending?from=2024-01-01&to=2024-06-30",
    "spending-region-quarters": (
        "/dashboard/spending?from=2024-01-01&to=2024-12-31&interval=quarter&by=programme,region"
    ),
    "spending-empty": "/dashboard/spending?from=2020-01-01&to=2020-03-31",
    "movement": "/dashboard/movement?from=2024-01-01&to=2024-06-30",
    "movement-age": "/dashboard/movement?from=2024-01-01&to=2024-12-31&by=programme,age_band",
}


def test_money_pages_pass_axe_per_role_language_and_width(
    money: Money,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    found: list[Violation] = []
    for role in ("oversight", "analyst"):
        browser.set_width(1400)
        sign_in(browser, live_server, role, "/dashboard")
        for lang in ("en", "da"):
            for name, path in PAGES.items():
                url = f"{live_server.base}{path}&lang={lang}"
                found += check_page(browser, url, f"{role}-money-{name}-{lang}")
        browser.click_and_load("#logout")
    assert found == [], _report(found)
