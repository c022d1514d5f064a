"""The money and movement pages in headless Chromium, in Danish, with screenshots.

An oversight user breaks spending down by programme and region per quarter through the
form, downloads the CSV Danish Excel opens, and reads inflow/outflow, durations (median of
censored spells) and full-year persons; an analyst sees the same pages with small cells
marked. Both are photographed at 1400 and 420 px, with axe run over every page in both
languages (test_money_accessibility.py).
"""

from __future__ import annotations

import csv
import io

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_browser import shoot, sign_in
from tests.dashboard.test_overview_browser import choose
from tests.money.conftest import Money, money, setup  # noqa: F401  (the fixtures)


def test_oversight_reads_spending_and_movement_in_danish(
    money: Money,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "oversight", "/dashboard/spending?lang=da")
    browser.fill("#from", "2024-01-01")
    browser.fill("#to", "2024-06-30")
    choose(browser, "#interval", "quarter")
    choose(browser, "#by", "programme,region")
    browser.click_and_load("#show")
    assert "interval=quarter" in browser.url and "by=programme%2Cregion" in browser.url
    table = browser.text("#spending-table")
    assert "2024 K1" in table and "1085 Region Sjælland" in table
    # Q1 SEL85 in 1084: M1 3 x 3000 + M5's payment 5000 = 14.000 kr. (Danish separator)
    assert (
        browser.js(
            "document.querySelector('[data-cell=\"2024-01-01|SEL85,1084\"]').textContent.trim()"
        )
        == "14.000"
    )
    shoot(browser, "money-spending-oversight-da-1400")
    saved = browser.download("#csv-spending").read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(saved.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["section", "period_start", "period_end", "programme", "region"]
    assert ["row", "2024-01-01", "2024-03-31", "SEL85", "1084", "14000.0", ""] in rows

    browser.goto(f"{live_server.base}/dashboard/movement?from=2024-01-01&to=2024-06-30&lang=da")
    assert "Tilgang" in browser.text("#flows-table")
    durations = browser.text("#durations-table")
    assert "30" in durations  # SEL85's Kaplan-Meier median: 30 days
    assert "2,08" in browser.text("#full-year-table")  # SEL85: 763/366 full-year persons
    shoot(browser, "money-movement-oversight-da-1400")
    browser.set_width(420)
    browser.goto(browser.url)
    shoot(browser, "money-movement-oversight-da-420")
    browser.click_and_load("#logout")


def test_analyst_sees_marks_for_small_cells(
    money: Money,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "analyst", "/dashboard/spending?from=2024-01-01&to=2024-03-31")
    assert browser.js("document.querySelector('#suppressed-legend') !== null")
    values = browser.js(
        "Array.from(document.querySelectorAll('#spending-table [data-value]'))"
        ".map(e => e.dataset.value)"
    )
    assert values and set(values) <= {"", "0"}
    shoot(browser, "money-spending-analyst-en-1400")
    browser.goto(f"{live_server.base}/dashboard/movement?from=2024-01-01&to=2024-06-30")
    assert browser.js("document.querySelectorAll('#flows-table .suppressed').length") > 0
    browser.set_width(420)
    browser.goto(browser.url)
    shoot(browser, "money-movement-analyst-en-420")
    browser.click_and_load("#logout")
