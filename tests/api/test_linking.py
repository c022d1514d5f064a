"""Probabilistic linking in the ingest path: links, reviews, new persons, ID conflicts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import push, record

BRITTA_ID = "0705404916"
OTHER_ID = "0101404915"


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def no_id(source_id: str, **overrides: Any) -> dict[str, Any]:
    return record(source_id, national_id=None, **overrides)


def test_record_without_id_links_to_the_person_found_by_id(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    typo = no_id("X1", given_name="Brita", family_name="PAULSEN", municipality="101")
    second = push(
        client,
        setup.sel104,
        "SEL104",
        "b1",
        [{**typo, "enrolment": {"benefit_code": "1.1", "start_date": "2024-01-01"}}],
    ).json()["results"][0]
    assert second["status"] == "linked"
    assert second["method"] == "probabilistic"
    assert second["person_id"] == first["person_id"]
    assert second["score"] > 8
    (weights,) = rows(engine, "SELECT link_weights FROM source_record WHERE source_id = 'X1'")[0]
    assert weights["fields"]["birth_date"]["level"] == "exact"
    assert weights["fields"]["given_name"]["weight"] > 0


def test_same_new_person_twice_in_one_batch_becomes_one_person(
    client: TestClient, setup: Setup
) -> None:
    results = push(
        client,
        setup.sel85,
        "SEL85",
        "b1",
        [no_id("A"), no_id("B", given_name="Britta Marie", mother_name=None)],
    ).json()["results"]
    assert [r["status"] for r in results] == ["created", "linked"]
    assert results[0]["person_id"] == results[1]["person_id"]
    assert results[1]["method"] == "probabilistic"


def test_twins_are_not_merged(client: TestClient, setup: Setup) -> None:
    results = push(
        client, setup.sel85, "SEL85", "b1", [no_id("A"), no_id("B", given_name="Karin")]
    ).json()["results"]
    later = push(
        client, setup.sel85, "SEL85", "b2", [no_id("C", given_name="Karin", region="1081")]
    ).json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert results[0]["person_id"] != results[1]["person_id"]
    assert later[0]["person_id"] == results[1]["person_id"]


def test_parent_and_child_of_the_same_name_are_not_merged(client: TestClient, setup: Setup) -> None:
    results = push(
        client,
        setup.sel85,
        "SEL85",
        "b1",
        [no_id("A"), no_id("B", birth_date="1968-02-11", mother_name="Britta Paulsen")],
    ).json()["results"]
    assert results[0]["person_id"] != results[1]["person_id"]


def test_uncertain_match_is_linked_provisionally_and_queued(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [no_id("A")]).json()["results"][0]
    moved = no_id("B", given_name="Birte", mother_name=None, municipality="101", region="1081")
    second = push(client, setup.sel85, "SEL85", "b2", [moved]).json()["results"][0]
    assert second["status"] == "review"
    assert second["person_id"] == first["person_id"]
    assert 10 <= second["score"] < 12
    queued = rows(
        engine,
        "SELECT m.reason, m.status, m.candidate_person_id::text, c.source_id "
        "FROM match_candidate m JOIN source_record r ON r.id = m.source_record_id "
        "JOIN source_record c ON c.id = m.candidate_record_id WHERE r.source_id = 'B'",
    )
    assert queued == [("uncertain", "pending", first["person_id"], "A")]


def test_new_national_id_never_merges_silently_with_a_person_holding_another(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    clash = record("B", national_id=OTHER_ID)
    second = push(client, setup.sel85, "SEL85", "b2", [clash]).json()["results"][0]
    assert second["status"] == "created"
    assert second["person_id"] != first["person_id"]
    queued = rows(
        engine,
        "SELECT reason, candidate_person_id::text FROM match_candidate m "
        "JOIN source_record r ON r.id = m.source_record_id WHERE r.source_id = 'B'",
    )
    assert queued == [("national_id_conflict", first["person_id"])]


def test_new_national_id_joins_a_matching_person_without_one_and_is_claimed(
    client: TestClient, setup: Setup
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [no_id("A")]).json()["results"][0]
    with_id = push(client, setup.sel85, "SEL85", "b2", [record("B")]).json()["results"][0]
    assert with_id["person_id"] == first["person_id"]
    assert with_id["method"] == "probabilistic"
    other = {**record("C", given_name="Bodil", birth_date="1950-01-01")}
    by_id = push(client, setup.sel85, "SEL85", "b3", [other]).json()["results"][0]
    assert by_id["method"] == "national_id"
    assert by_id["person_id"] == first["person_id"]


def test_blocking_keys_follow_the_record(client: TestClient, setup: Setup, engine: Engine) -> None:
    push(client, setup.sel85, "SEL85", "b1", [no_id("A")])
    keys = rows(engine, "SELECT key FROM blocking_key")
    assert any(k[0].startswith("fb:") for k in keys) and len(keys) >= 5
    push(client, setup.sel85, "SEL85", "b2", [{"source_id": "A", "retracted": True}])
    assert rows(engine, "SELECT key FROM blocking_key") == []
    back = push(client, setup.sel85, "SEL85", "b3", [no_id("B")]).json()["results"][0]
    assert back["status"] == "created"


def test_resent_batch_with_probabilistic_links_changes_nothing(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    batch = [no_id("A"), no_id("B", given_name="Brita")]
    first = push(client, setup.sel85, "SEL85", "b1", batch).json()
    counts = rows(
        engine, "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM blocking_key)"
    )
    again = push(client, setup.sel85, "SEL85", "b1", batch).json()
    assert again == first
    assert (
        rows(engine, "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM blocking_key)")
        == counts
    )
