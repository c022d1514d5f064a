"""A steward works review items to a decision in headless Chromium, keyboard and form only.

Screenshots go to test-artifacts/dashboard/ (review-*.png).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.dashboard.cdp import Browser
from tests.dashboard.conftest import LiveServer
from tests.dashboard.review_world import Workbench, workbench  # noqa: F401
from tests.dashboard.test_browser import shoot, sign_in

NOTE = "Same woman: the municipality's paper file shows both addresses."
LISTED = (
    "Array.from(document.querySelectorAll('#items-table tr[data-item]')).map(r => +r.dataset.item)"
)


def press(browser: Browser, key: str, code: int, text: str | None = None) -> None:
    """One key, as the keyboard sends it."""
    extra = {"text": text} if text else {}
    kind = "keyDown" if text else "rawKeyDown"
    browser.page(
        "Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code, **extra
    )
    browser.page(
        "Input.dispatchKeyEvent", type="keyUp", key=key, code=key, windowsVirtualKeyCode=code
    )


def tab_to_and_enter(browser: Browser, element_id: str, most: int = 12) -> None:
    """Tab (at most `most` times) until the element has the focus, press Enter, await the page."""
    for _ in range(most):
        if browser.js("document.activeElement.id") == element_id:
            break
        press(browser, "Tab", 9)
    assert browser.js("document.activeElement.id") == element_id
    browser.events.clear()
    press(browser, "Enter", 13, "\r")
    browser.wait_for("Page.loadEventFired")


def test_a_steward_works_an_item_to_a_decision_and_the_history_shows_it(
    workbench: Workbench,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    first, second = workbench.near
    browser.set_width(1400)
    sign_in(browser, live_server, "steward", "/dashboard/review")
    assert urlsplit(browser.url).path == "/dashboard/review"
    assert browser.js(LISTED) == [first, second]
    shoot(browser, "review-queue-steward")

    # filter by age through the form: only the item pending three days is left
    browser.fill("#min_age_days", "2")
    browser.click_and_load("#show")
    assert "min_age_days=2" in browser.url and browser.js(LISTED) == [first]
    browser.goto(live_server.base + "/dashboard/review")

    # open the oldest item: both records side by side, with agreement and weight
    browser.click_and_load(f"tr[data-item='{first}'] a.item")
    assert urlsplit(browser.url).path == f"/dashboard/review/{first}"
    row = "Array.from(document.querySelectorAll('#comparison tr[data-field=given_name] td'))"
    assert browser.js(f"{row}.map(td => td.textContent.trim())") == [
        "Birte",
        "Britta",
        "somewhat alike",
        "−1.00",
    ]
    shoot(browser, "review-item-steward")

    # every action has its access key, documented on the page
    keys = "Array.from(document.querySelectorAll('[accesskey]')).map(e => [e.id, e.accessKey])"
    assert sorted(browser.js(keys)) == [["match", "m"], ["next", "j"], ["non-match", "n"]]
    assert "M match, N non-match, J next item" in browser.text("#keys")

    # by keyboard alone: from the note, Tab to "next item" and Enter; the back link returns
    browser.js("document.querySelector('#note').focus()")
    tab_to_and_enter(browser, "next")
    assert urlsplit(browser.url).path == f"/dashboard/review/{second}"
    browser.click_and_load("#back")
    browser.click_and_load(f"tr[data-item='{first}'] a.item")

    # decide: a note, then Tab to "match" and Enter; the browser lands on the next item
    browser.fill("#note", NOTE)
    browser.js("document.querySelector('#note').focus()")
    tab_to_and_enter(browser, "match")
    assert urlsplit(browser.url).path == f"/dashboard/review/{second}"
    assert browser.text("#decided") == f"Item {first} decided: match."
    shoot(browser, "review-decided-steward")

    # the person's history names the decision: who, why and the score
    token = workbench.setup.steward_1084
    item: Any = live_server.api(f"/api/v1/review/{second}", token)
    assert item["item"]["id"] == second
    history = live_server.api(f"/api/v1/persons/{workbench.person}/history", token)
    event = history["events"][0]
    assert (event["kind"], event["actor_name"], event["reason"]) == ("match", "steward", NOTE)
    assert event["details"]["review_id"] == first and event["score"] > 0

    # the second item by the non-match button; the queue is then empty
    browser.fill("#note", "Two women of the same name.")
    browser.click_and_load("#non-match")
    assert urlsplit(browser.url).path == "/dashboard/review"
    assert "decided: non-match" in browser.text("#decided")
    assert browser.js(LISTED) == []
    browser.click_and_load("#logout")


def test_a_steward_of_another_region_gets_nothing_in_a_browser(
    workbench: Workbench,  # noqa: F811
    live_server: LiveServer,
    browser: Browser,
) -> None:
    browser.set_width(1400)
    sign_in(browser, live_server, "steward_1085", "/dashboard/review")
    assert browser.js(LISTED) == [workbench.far]
    shoot(browser, "review-queue-other-region")
    browser.goto(f"{live_server.base}/dashboard/review/{workbench.near[0]}")
    assert browser.js("document.querySelector('#error') !== null")
    assert browser.js("document.querySelector('#comparison') === null")
    shoot(browser, "review-item-other-region")
    browser.goto(f"{live_server.base}/dashboard/review")
    browser.click_and_load("#logout")
