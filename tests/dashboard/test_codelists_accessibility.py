"""The code-list pages and the programme edit page, in both languages and at both widths: no
serious or critical axe finding; photographed per page at 1400 and 420 px, a refusal included."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.axe import Violation
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_audit_admin_accessibility import _after_submit, _pages
from tests.dashboard.test_browser import sign_in


def test_the_code_list_pages_pass_axe(
    world: World, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    sign_in(browser, live_server, "admin", "/dashboard")
    base = live_server.base
    found: list[Violation] = _pages(
        base,
        {
            "codelists": "/dashboard/codelists",
            "codelist": "/dashboard/codelists/l402_benefits",
            "codelist-as-of": "/dashboard/codelists/dst_municipalities?as_of=2024-01-01",
            "programme-edit": "/dashboard/admin/programmes/SEL85",
        },
        "admin",
        browser,
    )
    for lang in ("en", "da"):
        found += _after_submit(
            browser,
            f"{base}/dashboard/codelists?lang={lang}",
            f"admin-codelist-refused-{lang}",
            "document.querySelector('#name').value = 'Bad Name';"
            "document.querySelector('#file').removeAttribute('required');",
            "#load",
        )
        found += _after_submit(
            browser,
            f"{base}/dashboard/admin/programmes/SEL85?lang={lang}",
            f"admin-programme-edit-refused-{lang}",
            "document.querySelector('#benefit_codes').value = 'X.NOPE';",
            "#save",
        )
    browser.click_and_load("#logout")
    assert found == [], _report(found)
