"""Every dashboard page, in both languages and at both widths: no serious or critical axe finding.

Each page is photographed at 1400 and 420 px into test-artifacts/dashboard/ as it is checked.
"""

from __future__ import annotations

from tests.dashboard.axe import Violation, check_page, violations
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LATE, LiveServer, World, add_reviews
from tests.dashboard.test_browser import sign_in

#: Every page an oversight user opens: name → path.
OVERSIGHT_PAGES = {
    "home": "/dashboard",
    "coverage": f"/dashboard/coverage?as_of={LATE}",
    "overlaps": f"/dashboard/overlaps?as_of={LATE}",
    "counts": f"/dashboard/counts?as_of={LATE}",
    "trends": "/dashboard/trends?from=2023-11-01&to=2024-08-31",
    "duplicates": f"/dashboard/duplicates?as_of={LATE}",
    "quality": "/dashboard/quality?programme=SEL85",
    "review": "/dashboard/review",
}


def _report(found: list[Violation]) -> str:
    return "\n".join(
        f"{v.page} at {v.width}px: {v.impact} {v.rule} ({v.help}) on {v.nodes}" for v in found
    )


def test_every_page_passes_axe_in_both_languages_and_widths(
    world: World, live_server: LiveServer, browser: Browser, engine: object
) -> None:
    add_reviews(engine)
    found: list[Violation] = []
    for lang in ("en", "da"):
        found += check_page(
            browser, f"{live_server.base}/dashboard/login?lang={lang}", f"login-{lang}"
        )
    sign_in(browser, live_server, "oversight", "/dashboard")
    for lang in ("en", "da"):
        for name, path in OVERSIGHT_PAGES.items():
            joiner = "&" if "?" in path else "?"
            url = f"{live_server.base}{path}{joiner}lang={lang}"
            found += check_page(browser, url, f"oversight-{name}-{lang}")
    assert found == [], _report(found)


def test_the_check_finds_what_a_broken_page_gets_wrong(
    live_server: LiveServer, browser: Browser
) -> None:
    browser.set_width(1400)
    browser.goto(f"{live_server.base}/dashboard/login")
    assert violations(browser, "login", 1400) == []
    browser.js(
        "document.querySelector('label[for=username]').remove();"
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">')"
    )
    rules = {v.rule for v in violations(browser, "login-broken", 1400)}
    assert {"label", "image-alt"} <= rules
