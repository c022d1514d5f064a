"""The review workbench's pages, per role, in both languages and at both widths: axe finds nothing.

Each page is photographed at 1400 and 420 px into test-artifacts/dashboard/ as it is checked
(`review-<role>-<page>-<lang>-<width>.png`).
"""

from __future__ import annotations

from tests.dashboard.axe import Violation, check_page
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.review_world import Workbench, workbench  # noqa: F401
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in


def _check(
    browser: Browser, server: LiveServer, role: str, pages: dict[str, str]
) -> list[Violation]:
    found: list[Violation] = []
    for lang in ("en", "da"):
        for name, path in pages.items():
            joiner = "&" if "?" in path else "?"
            url = f"{server.base}{path}{joiner}lang={lang}"
            found += check_page(browser, url, f"review-{role}-{name}-{lang}")
    return found


def test_the_workbench_passes_axe_for_every_role(
    workbench: Workbench,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    first, second = workbench.near
    browser.set_width(1400)
    sign_in(browser, live_server, "steward", "/dashboard/review")
    found = _check(
        browser,
        live_server,
        "steward",
        {
            "queue": "/dashboard/review",
            "queue-filtered": "/dashboard/review?reason=uncertain&programme=SEL85&min_age_days=2",
            "queue-empty": "/dashboard/review?reason=batch_conflict",
            "item": f"/dashboard/review/{first}",
            "item-decided-banner": f"/dashboard/review/{second}?decided={first}&outcome=match",
            "bad-filter": "/dashboard/review?reason=whim",
        },
    )
    browser.click_and_load("#logout")
    sign_in(browser, live_server, "steward_1085", "/dashboard/review")
    found += _check(
        browser,
        live_server,
        "other-region",
        {"queue": "/dashboard/review", "item-absent": f"/dashboard/review/{first}"},
    )
    browser.click_and_load("#logout")
    sign_in(browser, live_server, "oversight", "/dashboard/review")
    found += _check(
        browser,
        live_server,
        "oversight",
        {"queue": "/dashboard/review", "item-refused": f"/dashboard/review/{first}"},
    )
    browser.click_and_load("#logout")
    assert found == [], _report(found)
