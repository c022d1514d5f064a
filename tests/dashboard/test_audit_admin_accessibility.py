"""The auditor's and administrator's pages, in both languages and at both widths: no serious or
critical axe finding. Each page is photographed per role at 1400 and 420 px
(test-artifacts/dashboard/<role>-<page>-<lang>-<width>.png) as it is checked, forms refused
and a new secret included."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.dashboard.axe import ARTIFACTS, WIDTHS, Violation, check_page, violations
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_audit_pages import steward_reads
from tests.dashboard.test_browser import sign_in


def _pages(base: str, paths: dict[str, str], role: str, browser: Browser) -> list[Violation]:
    found: list[Violation] = []
    for lang in ("en", "da"):
        for name, path in paths.items():
            joiner = "&" if "?" in path else "?"
            found += check_page(
                browser, f"{base}{path}{joiner}lang={lang}", f"{role}-{name}-{lang}"
            )
    return found


def _after_submit(browser: Browser, url: str, name: str, fill: str, button: str) -> list[Violation]:
    """A page that answers a POST (a refused form, a new secret), checked at each width."""
    found: list[Violation] = []
    for width in WIDTHS:
        browser.set_width(width)
        browser.goto(url)
        browser.js(fill)
        browser.click_and_load(button)
        shot = browser.screenshot(ARTIFACTS / f"{name}-{width}.png")
        assert shot.stat().st_size > 5_000
        found += violations(browser, name, width)
    return found


def test_the_auditors_pages_pass_axe(
    client: TestClient, world: World, live_server: LiveServer, browser: Browser, engine: Any
) -> None:
    person = steward_reads(client, world, "case 4711: benefit check")
    sign_in(browser, live_server, "auditor", "/dashboard")
    browser.goto(f"{live_server.base}/dashboard/audit/chain")
    browser.click_and_load("#verify")  # so the chain page shows a verification
    found = _pages(
        live_server.base,
        {
            "home": "/dashboard",
            "trail": "/dashboard/audit",
            "trail-filtered": f"/dashboard/audit?user=steward&person_id={person}",
            "trail-refused": "/dashboard/audit?user=nobody&from=2024-05-02&to=2024-05-01",
            "accesses": f"/dashboard/audit/accesses?person_id={person}",
            "chain": "/dashboard/audit/chain",
        },
        "auditor",
        browser,
    )
    browser.click_and_load("#logout")
    assert found == [], _report(found)


def test_the_admins_pages_pass_axe(world: World, live_server: LiveServer, browser: Browser) -> None:
    sign_in(browser, live_server, "admin", "/dashboard")
    base = live_server.base
    found = _pages(
        base,
        {
            "home": "/dashboard",
            "users": "/dashboard/admin",
            "user": "/dashboard/admin/users/analyst",
            "clients": "/dashboard/admin/clients",
            "programmes": "/dashboard/admin/programmes",
        },
        "admin",
        browser,
    )
    for lang in ("en", "da"):
        found += _after_submit(
            browser,
            f"{base}/dashboard/admin?lang={lang}",
            f"admin-user-refused-{lang}",
            "document.querySelector('#username').value = 'x';"
            "document.querySelector('#password').value = 'short';",
            "#create",
        )
        found += _after_submit(
            browser,
            f"{base}/dashboard/admin/clients?lang={lang}",
            f"admin-client-secret-{lang}",
            "document.querySelector('#name').value = 'Another MIS';",
            "#create-client",
        )
        found += _after_submit(
            browser,
            f"{base}/dashboard/admin/programmes?lang={lang}",
            f"admin-programme-refused-{lang}",
            "document.querySelector('#code').value = 'bad code';"
            "document.querySelector('#name').value = 'X';"
            "document.querySelector('#benefit_codes').value = '1.1';",
            "#create-programme",
        )
    browser.click_and_load("#logout")
    assert found == [], _report(found)
