"""The login, error and quality pages under axe-core, both languages and widths, photographed."""

from __future__ import annotations

import time

from sqlalchemy import Engine, select

from registry.access.models import AppUser
from registry.access.sessions import renew_session, start_session
from registry.core.db import transaction
from registry.core.settings import Settings
from tests.dashboard.axe import Violation, check_page
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_accessibility import _report
from tests.dashboard.test_browser import sign_in
from tests.dashboard.test_session_browser import put_cookie

#: Pages of an oversight user: name → path.
SIGNED_IN = {
    "quality-choose": "/dashboard/quality",
    "quality": "/dashboard/quality?programme=SEL85",
    "quality-drill": "/dashboard/quality?programme=SEL85&category=future_end_date",
    "error-404": "/dashboard/no-such-page",
    "error-422": "/dashboard/coverage?as_of=yesterday",
    "refused-403": "/dashboard/quality?programme=NOPE",
}


def test_session_error_and_quality_pages_pass_axe(
    world: World,
    live_server: LiveServer,
    browser: Browser,
    engine: Engine,
    settings: Settings,
) -> None:
    found: list[Violation] = []
    for lang in ("en", "da"):
        base = live_server.base
        found += check_page(browser, f"{base}/dashboard/login?lang={lang}", f"session-login-{lang}")
        found += check_page(
            browser, f"{base}/dashboard/login?session=ended&lang={lang}", f"session-ended-{lang}"
        )
        found += check_page(
            browser, f"{base}/dashboard/nowhere?lang={lang}", f"error-404-anon-{lang}"
        )
    sign_in(browser, live_server, "oversight", "/dashboard")
    for lang in ("en", "da"):
        for name, path in SIGNED_IN.items():
            joiner = "&" if "?" in path else "?"
            url = f"{live_server.base}{path}{joiner}lang={lang}"
            found += check_page(browser, url, f"oversight-{name}-{lang}")
    # the session warning, shown: near the absolute end it shows at once
    with transaction(engine) as session:
        user = session.scalars(select(AppUser).where(AppUser.username == "oversight")).one()
        subject, version = f"user:{user.id}", user.token_version
    near = start_session(
        subject, version, settings, now=int(time.time()) - settings.session_max_seconds + 120
    )
    final = renew_session(near.session, settings)
    assert final is not None
    put_cookie(browser, live_server, final.token)
    for lang in ("en", "da"):
        url = f"{live_server.base}/dashboard/quality?programme=SEL85&lang={lang}"
        found += check_page(browser, url, f"oversight-session-warning-{lang}")
    assert found == [], _report(found)
