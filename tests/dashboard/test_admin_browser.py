"""An administrator in headless Chromium creates a user, who then signs in; a refused form
names the field and the rule in Danish."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_browser import shoot, sign_in
from tests.factories import PASSWORD


def test_an_admin_creates_a_user_who_then_signs_in(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "admin", "/dashboard/admin?lang=da")
    assert urlsplit(browser.url).path == "/dashboard/admin"

    # a password the policy refuses: the field and the rule, in Danish
    browser.fill("#username", "ny.tilsyn")
    browser.fill("#password", "kort")
    browser.js("document.querySelector('#role-oversight').click()")
    browser.click_and_load("#create")
    assert browser.js("document.querySelector('.rule').dataset.rule") == "min_length"
    assert "Adgangskode" in browser.text("#form-errors")
    assert "skal have mindst 12 tegn" in browser.text("#form-errors")
    assert browser.js("document.querySelector('#username').value") == "ny.tilsyn"
    shoot(browser, "admin-user-refused-da")

    # now as the policy wants it: created, listed
    browser.fill("#password", PASSWORD)
    if not browser.js("document.querySelector('#role-oversight').checked"):
        browser.js("document.querySelector('#role-oversight').click()")
    browser.fill("#regions", "*")
    browser.click_and_load("#create")
    assert "ny.tilsyn" in browser.text("#notice")
    assert browser.js("!!document.querySelector('tr.user[data-username=\"ny.tilsyn\"]')")
    shoot(browser, "admin-user-created")

    # the new user signs in and reaches the pages of the role given
    browser.click_and_load("#logout")
    sign_in(browser, live_server, "ny.tilsyn", "/dashboard")
    assert urlsplit(browser.url).path == "/dashboard"
    assert browser.text("#user") == "ny.tilsyn"
    assert browser.js("!!document.querySelector('#nav-coverage')")
    assert not browser.js("!!document.querySelector('#nav-admin')")
    shoot(browser, "admin-created-user-home")
    browser.click_and_load("#logout")
