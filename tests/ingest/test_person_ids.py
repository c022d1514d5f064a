"""New persons get time-ordered ids (UUID version 7), in SQL and in Python alike."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.persons.ids import new_person_id
from tests.factories import client_token, make_client, make_programme, push, record


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_sql_ids_are_version_7_in_creation_order(engine: Engine) -> None:
    before = time.time_ns() // 1_000_000
    with engine.connect() as conn:
        ids = [
            uuid.UUID(str(conn.execute(text("SELECT registry_uuid7()")).scalar_one()))
            for _ in range(50)
        ]
    after = time.time_ns() // 1_000_000
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert all(before - 1000 <= _millis(i) <= after + 1000 for i in ids)
    assert [_millis(i) for i in ids] == sorted(_millis(i) for i in ids)
    assert len(set(ids)) == 50  # the 74 random bits differ


def test_python_ids_have_the_same_layout() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_person_id() for _ in range(200)]
    assert {i.version for i in ids} == {7} and {i.variant for i in ids} == {uuid.RFC_4122}
    assert all(before <= _millis(i) <= time.time_ns() // 1_000_000 for i in ids)
    assert len(set(ids)) == 200


def test_persons_created_by_ingest_are_time_ordered(client: TestClient, engine: Engine) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    token = client_token(client, *make_client(engine, "SEL85"))
    first = push(client, token, "SEL85", "b1", [record("A", national_id=None)]).json()
    other = record("B", national_id="0101901234", given_name="Jens", birth_date="1990-01-01")
    second = push(client, token, "SEL85", "b2", [other]).json()
    a, b = (uuid.UUID(r["results"][0]["person_id"]) for r in (first, second))
    assert first["results"][0]["status"] == second["results"][0]["status"] == "created"
    assert a.version == b.version == 7
    assert _millis(a) <= _millis(b)
