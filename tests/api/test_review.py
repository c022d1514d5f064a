"""Stewardship: review queue and decisions, merge, split, history, links export."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.core.db import transaction
from registry.matching.relink import plan_relink
from tests.api.conftest import Setup
from tests.api.test_relink import lenient
from tests.factories import bearer, make_user, push, record, user_token

UNCERTAIN = {
    "national_id": None,
    "given_name": "Birte",
    "mother_name": None,
    "municipality": "101",
    "region": "1081",
}


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def queued(client: TestClient, setup: Setup) -> tuple[dict[str, Any], dict[str, Any]]:
    """A person A and a record B provisionally linked to it, pending review."""
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    second = push(client, setup.sel85, "SEL85", "b2", [record("B", **UNCERTAIN)]).json()
    assert second["results"][0]["status"] == "review"
    return first, second["results"][0]


def queue(client: TestClient, token: str, **params: Any) -> Any:
    return client.get("/api/v1/review", params=params, headers=bearer(token))


def decide(client: TestClient, token: str, item: int, decision: str) -> Any:
    return client.post(
        f"/api/v1/review/{item}/decision",
        json={"decision": decision, "note": "checked the paper file"},
        headers=bearer(token),
    )


def test_queue_shows_the_pair_field_by_field(client: TestClient, setup: Setup) -> None:
    first, _ = queued(client, setup)
    page = queue(client, setup.steward_1084).json()
    (item,) = page["items"]
    assert item["reason"] == "uncertain" and item["status"] == "pending"
    assert item["record"]["source_id"] == "B" and item["candidate"]["source_id"] == "A"
    assert item["candidate"]["person_id"] == first["person_id"]
    given = next(c for c in item["comparison"] if c["field"] == "given_name")
    assert (given["record"], given["candidate"]) == ("Birte", "Britta")
    assert given["level"] is not None and isinstance(given["weight"], float)
    assert page["next_cursor"] is None


def test_queue_is_for_stewards_of_the_region(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    queued(client, setup)
    make_user(engine, "steward_far", ["steward"], ["1085"])
    far = user_token(client, "steward_far")
    assert queue(client, far).json()["items"] == []
    item = queue(client, setup.steward_1084).json()["items"][0]["id"]
    assert decide(client, far, item, "match").status_code == 404
    assert queue(client, setup.oversight).status_code == 403
    assert queue(client, setup.sel85).status_code == 403


def test_match_confirms_the_link_once(client: TestClient, setup: Setup, engine: Engine) -> None:
    first, _ = queued(client, setup)
    item = queue(client, setup.steward_1084).json()["items"][0]["id"]
    answer = decide(client, setup.steward_1084, item, "match")
    assert answer.status_code == 200 and answer.json()["person_id"] == first["person_id"]
    assert scalar(engine, "SELECT link_method FROM source_record WHERE source_id = 'B'") == "manual"
    assert scalar(engine, "SELECT kind FROM link_event") == "match"
    assert decide(client, setup.steward_1084, item, "non_match").status_code == 409
    assert queue(client, setup.steward_1084).json()["items"] == []
    assert scalar(engine, "SELECT count(*) FROM audit_event WHERE action = 'review.decision'") == 1


def test_non_match_undoes_the_provisional_link_for_good(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first, _ = queued(client, setup)
    item = queue(client, setup.steward_1084).json()["items"][0]["id"]
    answer = decide(client, setup.steward_1084, item, "non_match").json()
    assert answer["person_id"] != first["person_id"]
    held = scalar(engine, "SELECT person_id::text FROM source_record WHERE source_id = 'B'")
    assert held == answer["person_id"]
    assert (
        scalar(engine, "SELECT count(*) FROM enrolment WHERE person_id = CAST(:p AS uuid)", p=held)
        == 1
    )
    with transaction(engine) as session:
        assert plan_relink(session, lenient()).summary().records_moving == 0


def test_merge_moves_everything_and_is_in_the_history(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    a = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    other = record("B", national_id=None, given_name="Mogens", birth_date="1961-01-01")
    b = push(client, setup.sel85, "SEL85", "b2", [other]).json()["results"][0]
    assert a["person_id"] != b["person_id"]
    merged = client.post(
        f"/api/v1/persons/{a['person_id']}/merge",
        json={"other": b["person_id"], "reason": "same person per municipality"},
        headers=bearer(setup.steward_1084),
    )
    assert merged.status_code == 200, merged.text
    assert scalar(engine, "SELECT count(DISTINCT person_id) FROM enrolment") == 1
    assert (
        scalar(
            engine,
            "SELECT merged_into::text FROM person WHERE id = CAST(:p AS uuid)",
            p=b["person_id"],
        )
        == a["person_id"]
    )
    history = client.get(
        f"/api/v1/persons/{a['person_id']}/history", headers=bearer(setup.steward_1084)
    ).json()
    assert history["events"][0]["kind"] == "merge"
    assert {v["source_id"] for v in history["versions"]} == {"A", "B"}
    absorbed = client.get(
        f"/api/v1/persons/{b['person_id']}/history", headers=bearer(setup.steward_1084)
    )
    assert absorbed.json()["merged_into"] == a["person_id"]


def test_merging_two_national_id_holders_is_refused(client: TestClient, setup: Setup) -> None:
    a = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    other = record("B", national_id="0101404915", given_name="Mogens", birth_date="1940-01-01")
    b = push(client, setup.sel85, "SEL85", "b2", [other]).json()["results"][0]
    refused = client.post(
        f"/api/v1/persons/{a['person_id']}/merge",
        json={"other": b["person_id"], "reason": "x"},
        headers=bearer(setup.steward_1084),
    )
    assert refused.status_code == 409


def test_split_moves_records_to_a_new_person_and_is_remembered(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    batch = [record("A", national_id=None), record("B", national_id=None, given_name="Brita")]
    results = push(client, setup.sel85, "SEL85", "b1", batch).json()["results"]
    person = results[0]["person_id"]
    assert results[1]["person_id"] == person
    url = f"/api/v1/persons/{person}/split"
    steward = bearer(setup.steward_1084)
    everything = [{"programme": "SEL85", "source_id": s} for s in ("A", "B")]
    assert (
        client.post(
            url, json={"source_records": everything, "reason": "x"}, headers=steward
        ).status_code
        == 422
    )
    stranger = [{"programme": "SEL85", "source_id": "Z"}]
    assert (
        client.post(
            url, json={"source_records": stranger, "reason": "x"}, headers=steward
        ).status_code
        == 422
    )
    answer = client.post(
        url, json={"source_records": everything[1:], "reason": "two sisters"}, headers=steward
    )
    assert answer.status_code == 200, answer.text
    moved = scalar(engine, "SELECT person_id::text FROM source_record WHERE source_id = 'B'")
    assert moved == answer.json()["new_person_id"] != person
    with transaction(engine) as session:
        assert plan_relink(session, lenient()).summary().records_moving == 0
    assert scalar(engine, "SELECT count(*) FROM audit_event WHERE action = 'person.split'") == 1


def test_links_export_is_csv_for_stewards_and_admins_of_the_region(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    make_user(engine, "registrar", ["admin"], ["*"])
    for token in (setup.steward_1084, user_token(client, "registrar")):
        answer = client.get("/api/v1/links/export", headers=bearer(token))
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        lines = answer.text.strip().splitlines()
        assert lines[0] == "programme,source_id,person_id,method,score"
        assert lines[1] == f"SEL85,A,{first['person_id']},new,"
    assert client.get("/api/v1/links/export", headers=bearer(setup.oversight)).status_code == 403
    unscoped = client.get("/api/v1/links/export", headers=bearer(setup.admin))
    assert unscoped.text.strip().splitlines() == ["programme,source_id,person_id,method,score"]
