"""An administrator in headless Chromium loads an NGO's benefit list from a CSV file, reads it
by version and date, and gives a programme the NGO's code; refusals name field, rule and row."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer, World
from tests.dashboard.test_browser import shoot, sign_in


def choose_file(browser: Browser, selector: str, path: Path) -> None:
    """Put a file into a file input, as choosing it in the dialog would."""
    root = browser.page("DOM.getDocument")["root"]["nodeId"]
    node = browser.page("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    browser.page("DOM.setFileInputFiles", files=[str(path)], nodeId=node)


def test_an_admin_loads_a_list_and_gives_a_programme_its_codes(
    world: World, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "admin", "/dashboard/codelists?lang=da")
    assert urlsplit(browser.url).path == "/dashboard/codelists"
    assert browser.js("!!document.querySelector('tr.codelist[data-name=\"l402_benefits\"]')")

    # a status map whose word maps to no registry status: refused, naming the file's row
    bad = tmp_path / "status.csv"
    bad.write_text("code,description,status\nexited,ude,gone\n", encoding="utf-8")
    browser.fill("#name", "sel85_statuses")
    browser.js("document.querySelector('#kind').value = 'status_map'")
    browser.fill("#owner", "SEL85")
    choose_file(browser, "#file", bad)
    browser.click_and_load("#load")
    assert browser.js("document.querySelector('.rule').dataset.rule") == "status_target"
    assert "række 2" in browser.text("#form-errors")
    assert browser.js("document.querySelector('#name').value") == "sel85_statuses"
    shoot(browser, "admin-codelist-refused-da")

    # the programme's own benefit list, loaded: its page shows the codes
    good = tmp_path / "sel85.csv"
    good.write_text(
        "code,description,valid_from,valid_to\nX.FOOD,Madpakke,2020-01-01,\nX.OLD,Gammel,,2019-12-31\n",
        encoding="utf-8",
    )
    browser.fill("#name", "sel85_benefits")
    browser.js("document.querySelector('#kind').value = 'benefit'")
    browser.fill("#owner", "SEL85")
    choose_file(browser, "#file", good)
    browser.click_and_load("#load")
    assert urlsplit(browser.url).path == "/dashboard/codelists/sel85_benefits"
    assert "sel85_benefits" in browser.text("#notice")
    codes = browser.js("[...document.querySelectorAll('tr.entry')].map(r => r.dataset.code)")
    assert codes == ["X.FOOD", "X.OLD"]
    shoot(browser, "admin-codelist-da")

    # the codes valid on a day
    browser.fill("#as_of", "2021-06-01")
    browser.click_and_load("#show-as-of")
    assert parse_qs(urlsplit(browser.url).query)["as_of"] == ["2021-06-01"]
    codes = browser.js("[...document.querySelectorAll('tr.entry')].map(r => r.dataset.code)")
    assert codes == ["X.FOOD"]

    # the programme gets the NGO-style code; its history shows both versions
    browser.goto(f"{live_server.base}/dashboard/codelists?lang=da")
    browser.click_and_load('tr.programme[data-code="SEL85"] a')
    assert urlsplit(browser.url).path == "/dashboard/admin/programmes/SEL85"
    browser.fill("#benefit_codes", "1.12.0.1, 1.12.0.2, X.FOOD")
    browser.fill("#trust_rank", "5")
    browser.click_and_load("#save")
    assert "SEL85" in browser.text("#notice")
    versions = browser.js("[...document.querySelectorAll('tr.change')].map(r => r.dataset.version)")
    assert versions == ["2", "1"]
    assert "X.FOOD" in browser.text('tr.change[data-version="2"]')
    shoot(browser, "admin-programme-edit-da")

    # a code no list holds: refused, naming the field and the rule
    browser.fill("#benefit_codes", "X.NOPE")
    browser.click_and_load("#save")
    assert browser.js("document.querySelector('.rule').dataset.rule") == "benefit_codes"
    assert "Ydelseskoder" in browser.text("#form-errors")
    browser.click_and_load("#logout")


def test_an_analyst_has_no_code_list_pages(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    sign_in(browser, live_server, "analyst", "/dashboard")
    assert not browser.js("!!document.querySelector('#nav-codelists')")
    browser.goto(f"{live_server.base}/dashboard/codelists")
    assert "Access refused" in browser.js("document.body.textContent")
    browser.click_and_load("#logout")
