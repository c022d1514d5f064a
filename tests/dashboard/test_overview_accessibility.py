"""The oversight pages as repaired (issue 24), per role, both languages, 1400 and 420 px:
no serious or critical axe finding; each page photographed into test-artifacts/dashboard/.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.dashboard.axe import ARTIFACTS, WIDTHS, Violation, check_page, violations
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LATE, LiveServer, World, add_reviews
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in
from tests.dashboard.test_overview_browser import attach, choose

#: The pages each role opens (name → path); oversight's own list adds the person-level ones.
ROLE_PAGES = {
    "oversight": {
        "home": "/dashboard",
        "coverage": f"/dashboard/coverage?as_of={LATE}&breakdown=sex&region=1084",
        "coverage-empty": "/dashboard/coverage?as_of=2020-01-01",
        "overlaps": f"/dashboard/overlaps?as_of={LATE}",
        "counts": f"/dashboard/counts?as_of={LATE}",
        "trends-quarters": "/dashboard/trends?from=2021-01-01&to=2024-08-31",
        "trends-years": "/dashboard/trends?from=2014-01-01&to=2024-08-31",
        "duplicates": f"/dashboard/duplicates?as_of={LATE}",
        "duplicates-purpose": (
            f"/dashboard/duplicates/persons?kind=exclusive&programme=SEL85&programme=SEL104"
            f"&as_of={LATE}"
        ),
        "duplicates-persons": (
            f"/dashboard/duplicates/persons?kind=exclusive&programme=SEL85&programme=SEL104"
            f"&as_of={LATE}&purpose=control"
        ),
        "reconciliation": "/dashboard/reconciliation",
    },
    "analyst": {
        "home": "/dashboard",
        "coverage": f"/dashboard/coverage?as_of={LATE}&breakdown=age_band",
        "overlaps": f"/dashboard/overlaps?as_of={LATE}",
        "counts": f"/dashboard/counts?as_of={LATE}",
        "trends": "/dashboard/trends?from=2023-11-01&to=2024-08-31",
        "duplicates": f"/dashboard/duplicates?as_of={LATE}",
    },
    "steward": {"home": "/dashboard"},
    "auditor": {"home": "/dashboard"},
    "admin": {"home": "/dashboard"},
}


def test_every_oversight_page_passes_axe_per_role_language_and_width(
    world: World, live_server: LiveServer, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    add_reviews(engine)
    found: list[Violation] = []
    for role, pages in ROLE_PAGES.items():
        browser.set_width(1400)
        sign_in(browser, live_server, role, "/dashboard")
        for lang in ("en", "da"):
            for name, path in pages.items():
                joiner = "&" if "?" in path else "?"
                url = f"{live_server.base}{path}{joiner}lang={lang}"
                found += check_page(browser, url, f"{role}-{name}-{lang}")
        if role == "oversight":
            found += _reconciliation_answer(browser, live_server, tmp_path)
        browser.click_and_load("#logout")
    assert found == [], _report(found)


def _reconciliation_answer(browser: Browser, server: LiveServer, tmp_path: Path) -> list[Violation]:
    """The page a reconciliation upload answers, in both languages and widths."""
    extract = tmp_path / "extract.csv"
    rows = ["source_id,benefit_code,start_date"] + [f"A{i},1.12.0.2,2024-01-01" for i in range(9)]
    extract.write_text("\n".join([*rows, "NOPE,1.1,2024-01-01"]) + "\n", encoding="utf-8")
    found: list[Violation] = []
    for lang in ("en", "da"):
        for width in WIDTHS:
            browser.set_width(width)
            browser.goto(f"{server.base}/dashboard/reconciliation?lang={lang}")
            choose(browser, "#left", "SEL85")
            browser.fill("#as_of", LATE)
            attach(browser, "#reference", extract)
            browser.click_and_load("#compare")
            assert browser.js("document.querySelector('#reconciliation-summary') !== null")
            name = f"oversight-reconciliation-answer-{lang}"
            browser.screenshot(ARTIFACTS / f"{name}-{width}.png")
            found += violations(browser, name, width)
    return found
