"""The oversight pages' repairs in headless Chromium (issue 24), in Danish, with screenshots.

An oversight user reads names beside codes and Danish numbers, breaks coverage down by sex
in one region through the form, reads a long trend by quarter, downloads a CSV Danish Excel
opens, drills into the duplicates (the trail then names exactly the persons shown, no one
else), and uploads a reference extract. Each role's home is photographed at 1400 and 420 px.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, text

from tests.dashboard.axe import ARTIFACTS
from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LATE, LiveServer, World, add_reviews
from tests.dashboard.test_browser import shoot, sign_in

PERSON_IDS = "Array.from(document.querySelectorAll('[data-person]')).map(e => e.dataset.person)"


def choose(browser: Browser, selector: str, value: str) -> None:
    """Pick an option of a select as a user would."""
    browser.js(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        f" e.value = {json.dumps(value)};"
        " e.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )


def attach(browser: Browser, selector: str, path: Path) -> None:
    """Put a file into a file input (what the file chooser does)."""
    root = browser.page("DOM.getDocument")["root"]["nodeId"]
    node = browser.page("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    browser.page("DOM.setFileInputFiles", nodeId=node, files=[str(path)])


def last_event_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar_one())


def named_since(engine: Engine, after: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT action, detail, person_ids, purpose FROM audit_event"
                    " WHERE id > :after ORDER BY id"
                ),
                {"after": after},
            )
        )


def test_oversight_uses_the_repaired_pages_in_danish(
    world: World, live_server: LiveServer, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    browser.set_width(1400)
    add_reviews(engine)
    sign_in(browser, live_server, "oversight", "/dashboard?lang=da")
    assert urlsplit(browser.url).path == "/dashboard"
    assert browser.text("#figures-title") == "Nøgletal"
    assert browser.text("#figure-pending") == "2"
    assert "Programme SEL85" in browser.text("#home-batches")
    shoot(browser, "overview-home-oversight-da")

    # coverage: names beside codes; sex in region 1084 through the form
    browser.goto(f"{live_server.base}/dashboard/coverage?as_of={LATE}&lang=da")
    assert "1085 Region Sjælland" in browser.text("#coverage-region")
    assert "Aktivitets- og samværstilbud" in browser.text("#coverage-breakdown")
    choose(browser, "#breakdown", "sex")
    choose(browser, "#region", "1084")
    browser.click_and_load("#show")
    assert "region=1084" in browser.url and "breakdown=sex" in browser.url
    assert browser.text("#coverage-breakdown tbody th") == "Kvinder"
    assert browser.text("#coverage-breakdown tbody td") == "6"
    assert browser.text("#coverage-breakdown-total") == "6"
    assert "1084 Region Hovedstaden" in browser.text("h1")
    shoot(browser, "overview-coverage-breakdown-da")

    # the CSV a Danish page downloads opens in Danish Excel: BOM and semicolons
    saved = browser.download("#csv-coverage-breakdown").read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(saved.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["section", "sex", "region"]
    assert ["row", "F", "1084", "6", "8", "0", "0"] in rows  # SEL85 6 + SEL82 2 enrolments

    # a long range goes by quarter, and the chart fits a phone
    browser.goto(f"{live_server.base}/dashboard/trends?from=2021-01-01&to=2024-08-31&lang=da")
    assert "2024 K2" in browser.text("#trends-table")
    assert browser.js("document.querySelector('#trends-table').dataset.interval") == "quarter"
    browser.set_width(420)
    browser.goto(browser.url)
    overflow = browser.js(
        "document.querySelector('svg.lines').getBoundingClientRect().right"
        " <= document.documentElement.clientWidth"
    )
    assert overflow, "the trend chart is wider than the phone"
    shoot(browser, "overview-trends-quarters-da-420")
    browser.set_width(1400)

    # reconciliation: upload an extract with 1,200 rows nobody matches
    extract = tmp_path / "udtræk.csv"
    lines = ["source_id,national_id,benefit_code,start_date,end_date"]
    lines += [f"A{i},,1.12.0.2,2024-01-01," for i in range(10)]
    lines += [f"NOPE{i},,1.12.0.2,2024-01-01," for i in range(1200)]
    extract.write_text("\n".join(lines) + "\n", encoding="utf-8")
    browser.goto(f"{live_server.base}/dashboard/reconciliation?lang=da")
    choose(browser, "#left", "SEL85")
    browser.fill("#as_of", LATE)
    choose(browser, "#purpose", "control")
    attach(browser, "#reference", extract)
    browser.click_and_load("#compare")
    assert browser.text("#summary-unresolved") == "1.200"  # Danish thousands separator
    assert browser.text("#summary-left_only") == "2"
    shoot(browser, "overview-reconciliation-da")
    browser.click_and_load("#logout")


def test_the_trail_after_a_duplicates_drill_down_names_only_persons_on_the_page(
    world: World, live_server: LiveServer, browser: Browser, engine: Engine
) -> None:
    """Attack: open the duplicates and their list; every person the trail names since is on
    the page the browser shows, and the counts page named nobody."""
    browser.set_width(1400)
    sign_in(browser, live_server, "oversight", f"/dashboard/duplicates?as_of={LATE}&lang=da")
    before = last_event_id(engine)
    browser.goto(f"{live_server.base}/dashboard/duplicates?as_of={LATE}&lang=da")
    assert browser.js(PERSON_IDS) == []
    shoot(browser, "overview-duplicates-da")
    browser.click_and_load("#exclusive-table a.drill")
    assert browser.js(PERSON_IDS) == []  # first a purpose
    shoot(browser, "overview-duplicates-purpose-da")
    choose(browser, "#purpose", "control")
    browser.click_and_load("#open-list")
    on_page = set(browser.js(PERSON_IDS))
    assert len(on_page) == 12
    shoot(browser, "overview-duplicates-persons-da")
    trail = named_since(engine, before)
    named = {p for e in trail for p in e.person_ids}
    assert named == on_page
    views = [e for e in trail if e.action == "dashboard.view"]
    assert [(e.detail["page"], len(e.person_ids)) for e in views] == [
        ("duplicates", 0),
        ("duplicates.persons", 12),
    ]
    assert views[-1].purpose == "control"
    browser.click_and_load("#logout")


def test_each_role_has_a_home_with_its_figures(
    world: World, live_server: LiveServer, browser: Browser, engine: Engine
) -> None:
    add_reviews(engine)
    expected = {
        "oversight": ["#figure-persons", "#figure-pending", "#home-batches", "#figure-chain"],
        "analyst": ["#figure-persons"],
        "steward": ["#figure-pending", "#home-batches"],
        "auditor": ["#figure-chain"],
        "admin": ["#home-batches", "#figure-chain"],
    }
    every = sorted({s for shown in expected.values() for s in shown})
    for role, shown in expected.items():
        browser.set_width(1400)
        sign_in(browser, live_server, role, "/dashboard")
        present = [s for s in every if browser.js(f"document.querySelector('{s}') !== null")]
        assert present == sorted(shown), role
        for width in (1400, 420):
            browser.set_width(width)
            browser.goto(f"{live_server.base}/dashboard?lang=da")
            path = browser.screenshot(ARTIFACTS / f"home-{role}-da-{width}.png")
            assert path.stat().st_size > 5_000
        browser.click_and_load("#logout")
