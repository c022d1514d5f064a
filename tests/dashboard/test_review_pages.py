"""The review workbench without a browser: the queue's filters, an item, a decision, its history."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.review_world import Workbench, queue_ids, workbench  # noqa: F401
from tests.factories import bearer

HTML = {"Accept": "text/html"}
NOTE = "Same woman: the municipality's paper file shows both addresses."


def listed(page: str) -> list[int]:
    """The item ids a queue page lists."""
    return [int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)]


def queue_page(client: TestClient, token: str, **params: Any) -> Any:
    answer = client.get("/dashboard/review", params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer


def decide(
    client: TestClient, token: str, item: int, decision: str, origin: str | None = None, **form: str
) -> Any:
    headers = {**bearer(token), **HTML, "Origin": origin or "http://testserver"}
    return client.post(
        f"/dashboard/review/{item}/decision",
        data={"decision": decision, "note": NOTE, **form},
        headers=headers,
        follow_redirects=False,
    )


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_the_queue_filters_by_reason_programme_and_age(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
) -> None:
    token = workbench.setup.steward_1084
    first, second = workbench.near
    assert listed(queue_page(client, token).text) == [first, second]
    assert listed(queue_page(client, token, min_age_days="2").text) == [first]
    assert listed(queue_page(client, token, reason="uncertain", programme="SEL85").text) == [
        first,
        second,
    ]
    empty = queue_page(client, token, reason="national_id_conflict", programme="", min_age_days="")
    assert listed(empty.text) == [] and 'id="no-items"' in empty.text
    assert listed(queue_page(client, token, programme="SEL104").text) == []
    # the API answers the same filters the same way
    assert queue_ids(client, token, min_age_days=2) == [first]
    assert queue_ids(client, token, reason="batch_conflict") == []
    assert queue_ids(client, token, programme="SEL104") == []
    assert queue_ids(client, token, programme="SEL85", reason="uncertain") == [first, second]
    # the figures stay the steward's whole queue
    assert re.search(r'id="pending">2<', queue_page(client, token, min_age_days="2").text)


def test_bad_filters_are_a_clear_error_naming_the_field(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
) -> None:
    token = {**bearer(workbench.setup.steward_1084), **HTML}
    for params, field in (
        ({"reason": "whim"}, "reason"),
        ({"programme": "sel 85"}, "programme"),
        ({"min_age_days": "soon"}, "min_age_days"),
        ({"min_age_days": "99999"}, "min_age_days"),
        ({"min_age_days": "²"}, "min_age_days"),
    ):
        page = client.get("/dashboard/review", params=params, headers=token)
        assert page.status_code == 422, (params, page.text)
        assert 'id="error"' in page.text and field in page.text
        item = client.get(f"/dashboard/review/{workbench.near[0]}", params=params, headers=token)
        assert item.status_code == 422 and field in item.text
    danish = client.get("/dashboard/review?reason=whim&lang=da", headers=token)
    assert danish.status_code == 422 and '<html lang="da">' in danish.text
    api = client.get("/api/v1/review", params={"reason": "whim"}, headers=token)
    assert api.status_code == 422 and "reason" in api.text
    huge_note = decide(client, workbench.setup.steward_1084, workbench.near[0], "match")
    assert huge_note.status_code == 303  # a note within the limit is taken
    too_long = client.post(
        f"/dashboard/review/{workbench.near[1]}/decision",
        data={"decision": "match", "note": "x" * 2001},
        headers={**token, "Origin": "http://testserver"},
    )
    assert too_long.status_code == 422 and "note" in too_long.text
    unknown = client.post(
        f"/dashboard/review/{workbench.near[1]}/decision",
        data={"decision": "perhaps"},
        headers={**token, "Origin": "http://testserver"},
    )
    assert unknown.status_code == 422 and "decision" in unknown.text


def test_an_item_shows_both_records_with_agreement_weights_and_other_records(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
    engine: Engine,
) -> None:
    first, second = workbench.near
    page = client.get(
        f"/dashboard/review/{first}",
        params={"min_age_days": "0"},
        headers=bearer(workbench.setup.steward_1084),
    )
    assert page.status_code == 200, page.text
    given = re.search(r'<tr data-field="given_name">(.*?)</tr>', page.text, re.S)
    assert given is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", given.group(1))
    assert cells == ["Birte", "Britta", "somewhat alike", "−1.00"]
    family = re.search(r'<tr data-field="family_name">(.*?)</tr>', page.text, re.S)
    assert family is not None and "identical" in family.group(1) and "+" in family.group(1)
    # the API's item: the same comparison, and the next item of the queue
    api = client.get(f"/api/v1/review/{first}", headers=bearer(workbench.setup.steward_1084))
    assert api.status_code == 200, api.text
    assert api.json()["next_id"] == second
    assert f'href="/dashboard/review/{second}?' in page.text and 'accesskey="j"' in page.text
    for key in ('accesskey="m"', 'accesskey="n"', 'id="keys"'):
        assert key in page.text
    # each person's other records: the 1084 person holds A-0 besides the pair
    for side in ("record-others", "candidate-others"):
        table = re.search(rf'<table id="{side}"(.*?)</table>', page.text, re.S)
        assert table is not None and "SEL85 / A-0" in table.group(1)
        assert "SEL85 / A-2" not in table.group(1)
    # the view is audited naming the persons and records shown, with the work as its purpose
    with engine.connect() as conn:
        event = conn.execute(
            text(
                "SELECT person_ids, record_ids, purpose FROM audit_event "
                "WHERE action = 'dashboard.view' AND detail ->> 'page' = 'review_item' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert event.person_ids == [workbench.person]
    assert sorted(event.record_ids) == ["SEL85:A", "SEL85:A-0", "SEL85:A-2"]
    assert event.purpose == "linkage review"


def test_a_decision_goes_to_the_next_item_and_is_in_the_history(
    client: TestClient,
    workbench: Workbench,  # noqa: F811
    engine: Engine,
) -> None:
    first, second = workbench.near
    token = workbench.setup.steward_1084
    score = client.get(f"/api/v1/review/{first}", headers=bearer(token)).json()["item"]["score"]
    answer = decide(client, token, first, "match", min_age_days="0", reason="uncertain")
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    assert target.startswith(f"/dashboard/review/{second}?") and "reason=uncertain" in target
    landed = client.get(target, headers=bearer(token))
    assert f"Item {first} decided: match." in landed.text
    # the decision, its note and its score are in the person's history; the steward is named
    history = client.get(f"/api/v1/persons/{workbench.person}/history", headers=bearer(token))
    event = history.json()["events"][0]
    assert (event["kind"], event["actor_name"], event["reason"]) == ("match", "steward", NOTE)
    assert event["score"] == score and event["details"]["review_id"] == first
    # the note is kept with the item, and nowhere in the trail
    assert scalar(engine, "SELECT note FROM match_candidate WHERE id = :i", i=first) == NOTE
    trail = scalar(engine, "SELECT string_agg(CAST(e AS text), ' ') FROM audit_event e")
    assert "paper file" not in trail
    assert scalar(engine, "SELECT count(*) FROM audit_event WHERE action = 'review.decision'") == 1
    # the decided item is out of the queue; the last one sends the steward back to it
    assert listed(queue_page(client, token).text) == [second]
    last = decide(client, token, second, "non_match")
    assert last.headers["location"].startswith("/dashboard/review?")
    done = client.get(last.headers["location"], headers=bearer(token))
    assert 'id="decided"' in done.text and listed(done.text) == []
