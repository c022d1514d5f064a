"""Attacks on the review workbench: another region, another role, a forged form, a double decision.

The world (tests/dashboard/review_world.py): two pending items whose persons are in region
1084, one whose person is in 1085, a steward of each region.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.settings import Settings
from tests.api.conftest import setup  # noqa: F401  (the fixture the world builds on)
from tests.dashboard.review_world import Workbench, queue_ids, workbench  # noqa: F401
from tests.factories import PASSWORD, bearer, make_user, user_token
from tests.hostile.live import live_server

HTML = {"Accept": "text/html"}
FORM = {"decision": "match", "note": "forged"}


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)]


def status_of(engine: Engine, item: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT status FROM match_candidate WHERE id = :i"), {"i": item}
            ).scalar_one()
        )


def link_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM link_event")).scalar_one())


def test_a_steward_of_another_region_sees_none_of_the_items(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
) -> None:
    far = workbench.steward_1085
    page = client.get("/dashboard/review", headers=bearer(far))
    assert listed(page.text) == [workbench.far]
    assert re.search(r'id="pending">1<', page.text)
    for item in workbench.near:
        assert f"/dashboard/review/{item}?" not in page.text
    # no filter turns up another region's item, on the page or through the API
    for params in ({"programme": "SEL85"}, {"reason": "uncertain"}, {"min_age_days": "1"}):
        assert not set(workbench.near) & set(
            listed(client.get("/dashboard/review", params=params, headers=bearer(far)).text)
        )
        assert not set(workbench.near) & set(queue_ids(client, far, **params))
    assert queue_ids(client, far) == [workbench.far]
    # and the other way round
    assert workbench.far not in listed(
        client.get("/dashboard/review", headers=bearer(workbench.setup.steward_1084)).text
    )


def test_another_region_cannot_open_or_decide_an_item_by_its_id(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
    engine: Engine,
) -> None:
    far = {**bearer(workbench.steward_1085), **HTML}
    missing = client.get("/dashboard/review/999999", headers=far)
    assert missing.status_code == 404
    for item in workbench.near:
        opened = client.get(f"/dashboard/review/{item}", headers=far)
        assert opened.status_code == 404 and opened.text == missing.text.replace(
            "999999", str(item)
        )
        assert "Britta" not in opened.text and "Paulsen" not in opened.text
        for decision in ("match", "non_match"):
            posted = client.post(
                f"/dashboard/review/{item}/decision",
                data={"decision": decision, "note": "mine now"},
                headers={**far, "Origin": "http://testserver"},
                follow_redirects=False,
            )
            assert posted.status_code == 404, posted.text
        api = client.get(f"/api/v1/review/{item}", headers=far)
        assert api.status_code == 404
        assert (
            api.json()["detail"]
            == client.get("/api/v1/review/999999", headers=far).json()["detail"]
        )
        assert status_of(engine, item) == "pending"
    assert link_events(engine) == 0
    near = bearer(workbench.setup.steward_1084)
    assert client.get(f"/dashboard/review/{workbench.far}", headers=near).status_code == 404
    assert client.get(f"/api/v1/review/{workbench.far}", headers=near).status_code == 404


def test_other_roles_cannot_open_or_decide_an_item(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "auditor", ["auditor"])
    users = workbench.setup
    item = workbench.near[0]
    for token in (users.oversight, users.analyst, users.admin, user_token(client, "auditor")):
        headers = {**bearer(token), **HTML}
        assert client.get(f"/dashboard/review/{item}", headers=headers).status_code == 403
        posted = client.post(
            f"/dashboard/review/{item}/decision",
            data=FORM,
            headers={**headers, "Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert posted.status_code == 403
        assert client.get(f"/api/v1/review/{item}", headers=headers).status_code == 403
    # a feed client is no user of the dashboard at all
    feed = {**bearer(users.sel85), **HTML}
    assert client.get(f"/dashboard/review/{item}", headers=feed).status_code in (401, 403)
    # oversight sees the queue's size only: no item, no record
    counts = client.get("/dashboard/review", headers=bearer(users.oversight))
    assert listed(counts.text) == [] and 'id="counts-only"' in counts.text
    assert "Birte" not in counts.text
    assert status_of(engine, item) == "pending" and link_events(engine) == 0


def test_a_forged_form_without_this_origin_is_refused(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
    engine: Engine,
) -> None:
    signed_in = client.post(
        "/dashboard/login",
        data={"username": "steward", "password": PASSWORD},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and "registry_dashboard" in signed_in.headers["set-cookie"]
    item = workbench.near[0]
    path = f"/dashboard/review/{item}/decision"
    for headers in (
        {},
        {"Origin": "null"},
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/dashboard/review"},
    ):
        forged = client.post(path, data=FORM, headers={**HTML, **headers}, follow_redirects=False)
        assert forged.status_code == 403, (headers, forged.text)
    assert status_of(engine, item) == "pending" and link_events(engine) == 0
    # the same form from this site is taken
    real = client.post(
        path, data=FORM, headers={**HTML, "Origin": "http://testserver"}, follow_redirects=False
    )
    assert real.status_code == 303, real.text
    assert status_of(engine, item) == "match"


def test_a_parallel_double_decision_has_exactly_one_winner(
    workbench: Workbench,  # noqa: F811
    engine: Engine,
    settings: Settings,
) -> None:
    item = workbench.near[0]
    token = bearer(workbench.setup.steward_1084)
    answers: list[int] = []
    start = threading.Barrier(4)

    def through_page(base: str, decision: str) -> None:
        start.wait()
        answer = httpx.post(
            f"{base}/dashboard/review/{item}/decision",
            data={"decision": decision, "note": "racing"},
            headers={**token, **HTML},
            timeout=30,
        )
        answers.append(answer.status_code)

    def through_api(base: str, decision: str) -> None:
        start.wait()
        answer = httpx.post(
            f"{base}/api/v1/review/{item}/decision",
            json={"decision": decision, "note": "racing"},
            headers=token,
            timeout=30,
        )
        answers.append(answer.status_code)

    with live_server(create_app(engine, settings)) as base:
        runs: list[Any] = [
            (through_page, "match"),
            (through_page, "non_match"),
            (through_api, "match"),
            (through_api, "non_match"),
        ]
        threads = [threading.Thread(target=f, args=(base, d)) for f, d in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    won = [a for a in answers if a in (200, 303)]
    assert len(answers) == 4 and len(won) == 1, answers
    # the losers learn it was decided (409); after a non-match the record's new person is
    # outside this steward's regions (its record is from 1081), so the item is absent (404)
    lost = 409 if status_of(engine, item) == "match" else 404
    assert sorted(a for a in answers if a not in (200, 303)) == [lost, lost, lost]
    with engine.connect() as conn:
        decisions = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'review.decision'")
        ).scalar_one()
    assert link_events(engine) == 1 and decisions == 1
