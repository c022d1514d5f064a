"""Hostile input: every bad request is a clear 4xx naming the field, and nothing is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.middleware import BodyLimitMiddleware
from registry.core.settings import Settings
from tests.factories import bearer, record
from tests.hostile.conftest import Hostile, stored

BATCHES = "/api/v1/programmes/SEL85/batches"
NOTHING = {"feed_batch": 0, "source_record": 0, "person": 0, "enrolment": 0}


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The one error shape, the expected status, the field named, no stack trace."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "detail", "errors"} and body["error"] and body["detail"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return dict(body)


def push(client: TestClient, token: str, body: Any, **kwargs: Any) -> Any:
    return client.post(BATCHES, json=body, headers=bearer(token), **kwargs)


@pytest.fixture
def small_limits(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The app with a 20 kB body limit, 5 records per batch and 600-byte URLs."""
    tight = settings.model_copy(
        update={"max_request_bytes": 20_000, "max_batch_records": 5, "max_url_bytes": 600}
    )
    with TestClient(create_app(engine, tight)) as test_client:
        yield test_client


# ---- size limits -----------------------------------------------------------------------


def test_body_over_the_limit_is_413_from_content_length(
    small_limits: TestClient, hostile: Hostile, engine: Engine
) -> None:
    records = [record(f"S-{n}", given_name="x" * 150) for n in range(5)] * 30
    response = push(small_limits, hostile.feed, {"batch_id": "big", "records": records})
    assert_error(response, 413)
    assert stored(engine) == NOTHING


def test_chunked_body_over_the_limit_is_413(
    small_limits: TestClient, hostile: Hostile, engine: Engine
) -> None:
    payload = json.dumps({"batch_id": "big", "records": [record("S-1")] * 200}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends it chunked
        for start in range(0, len(payload), 4096):
            yield payload[start : start + 4096]

    response = small_limits.post(
        BATCHES,
        content=chunks(),
        headers={**bearer(hostile.feed), "Content-Type": "application/json"},
    )
    assert_error(response, 413)
    assert stored(engine) == NOTHING


def test_body_limit_stops_reading_at_the_limit() -> None:
    """The middleware pulls no chunk after the one that passed the limit."""
    pulled = 0
    answered: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        answered.append(message)

    async def app(scope: Any, receive_: Any, send_: Any) -> None:
        while True:  # an application that would read for ever
            await receive_()

    middleware = BodyLimitMiddleware(app, max_bytes=10_500)
    asyncio.run(middleware({"type": "http", "headers": []}, receive, send))
    assert pulled == 11  # 11 x 1000 bytes > 10,500: stop there
    assert answered[0]["status"] == 413


def test_too_many_records_is_413_and_nothing_stored(
    small_limits: TestClient, hostile: Hostile, engine: Engine
) -> None:
    records = [record(f"S-{n}", national_id=None) for n in range(6)]
    response = push(small_limits, hostile.feed, {"batch_id": "six", "records": records})
    body = assert_error(response, 413)
    assert "at most 5 records" in body["detail"]
    assert stored(engine) == NOTHING


def test_url_over_the_limit_is_414(small_limits: TestClient, hostile: Hostile) -> None:
    response = small_limits.get(
        "/api/v1/audit/events", params={"actor": "a" * 700}, headers=bearer(hostile.reader)
    )
    assert_error(response, 414)


def test_page_size_over_the_limit_is_422(client: TestClient, hostile: Hostile) -> None:
    response = client.get(
        "/api/v1/audit/events", params={"limit": 100_000}, headers=bearer(hostile.reader)
    )
    assert_error(response, 422, "limit")


def test_over_long_strings_outside_records_are_422(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    response = push(client, hostile.feed, {"batch_id": "b" * 10_000, "records": [record("S-1")]})
    assert_error(response, 422, "batch_id")
    response = client.get(
        "/api/v1/audit/events", params={"actor": "a" * 5000}, headers=bearer(hostile.reader)
    )
    assert_error(response, 422, "actor")
    assert stored(engine) == NOTHING


# ---- malformed bodies and wrong types -------------------------------------------------


MALFORMED = [
    b'{"batch_id": "b1", "records": [',
    b"{'batch_id': 'b1'}",
    b'{"batch_id": "b1", "records": [NaN]}x',
    b"\xff\xfe\x00garbage",
    b"[" * 100_000 + b"]" * 100_000,
    b"",
]


def test_malformed_json_is_a_4xx_naming_the_body(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    for raw in MALFORMED:
        response = client.post(
            BATCHES,
            content=raw,
            headers={**bearer(hostile.feed), "Content-Type": "application/json"},
        )
        assert response.status_code in (400, 422), (raw[:40], response.text)
        assert_error(response, response.status_code)
    assert stored(engine) == NOTHING


WRONG_TYPES: list[tuple[Any, str]] = [
    ({"batch_id": 12, "records": []}, "batch_id"),
    ({"batch_id": "b1", "records": {"source_id": "S-1"}}, "records"),
    ({"batch_id": "b1"}, "records"),
    ({"records": [record("S-1")]}, "batch_id"),
    ([record("S-1")], "body"),
    ("just a string", "body"),
]


def test_wrong_types_at_the_top_are_422_naming_the_field(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    for body, field in WRONG_TYPES:
        assert_error(push(client, hostile.feed, body), 422, field)
    assert stored(engine) == NOTHING


BAD_RECORDS: list[tuple[dict[str, Any], str, str]] = [
    ({"given_name": 42}, "given_name", "invalid_type"),
    ({"birth_date": 19400507}, "birth_date", "invalid_date"),
    ({"birth_date": "1940-02-30"}, "birth_date", "invalid_date"),
    ({"enrolment": "active"}, "enrolment", "invalid_type"),
    ({"enrolment": {"amount": "1e400"}}, "enrolment.amount", "invalid_number"),
    ({"enrolment": {"amount": True}}, "enrolment.amount", "invalid_number"),
    ({"region": ["1084"]}, "region", "invalid_type"),
    ({"given_name": "x" * 10_000}, "given_name", "too_long"),
    ({"mother_name": "Karen\tPaulsen\x07"}, "mother_name", "invalid_characters"),
]


def test_a_bad_record_is_rejected_by_field_and_nothing_of_it_stored(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    """API.md: one bad record never sinks the batch — 200, the record rejected by field."""
    for n, (overrides, field, code) in enumerate(BAD_RECORDS):
        odd = {k: v for k, v in overrides.items() if k == "enrolment" and not isinstance(v, dict)}
        sent = {**record("S-1", **{k: v for k, v in overrides.items() if k not in odd}), **odd}
        response = push(client, hostile.feed, {"batch_id": f"b{n}", "records": [sent]})
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["status"] == "rejected", (overrides, result)
        assert (field, code) in [(e["field"], e["code"]) for e in result["errors"]], result
    assert stored(engine)["source_record"] == 0
    assert stored(engine)["person"] == 0


def test_a_record_that_is_not_an_object_is_rejected(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    response = push(
        client, hostile.feed, {"batch_id": "b1", "records": [None, 7, "S-1", [], record("S-2")]}
    )
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["rejected"] * 4 + ["created"]
    assert stored(engine)["source_record"] == 1


def test_ten_thousand_character_source_id_is_rejected_and_answer_kept(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    response = push(client, hostile.feed, {"batch_id": "b1", "records": [record("S" * 10_000)]})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    assert result["errors"][0]["field"] == "source_id"
    assert stored(engine)["source_record"] == 0


# ---- unicode edge cases ---------------------------------------------------------------


NUL_BODIES: list[tuple[Any, str]] = [
    ({"batch_id": "b\u00001", "records": []}, "batch_id"),
    ({"batch_id": "b1", "records": [record("S-1", given_name="Bri\u0000tta")]}, "records.0."),
    ({"batch_id": "b1", "records": [record("S-\u00001")]}, "records.0.source_id"),
    ({"batch_id": "b1", "records": [{**record("S-1"), "note\u0000": "x"}]}, "records.0.note"),
    ({"batch_id": "b1", "records": [record("S-1", enrolment={"status": "\u0000"})]}, "records.0."),
]


def test_nul_anywhere_is_422_naming_the_field_and_nothing_stored(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    for body, field in NUL_BODIES:
        answer = assert_error(push(client, hostile.feed, body), 422)
        fields = [e["field"] for e in answer["errors"]]
        assert fields[0].startswith(field), fields
        assert answer["errors"][0]["code"] == "invalid_characters"
    assert stored(engine) == NOTHING


def test_nul_field_is_named_exactly(client: TestClient, hostile: Hostile) -> None:
    body = {"batch_id": "b1", "records": [record("S-1"), record("S-2", family_name="P\u0000")]}
    answer = assert_error(push(client, hostile.feed, body), 422)
    assert answer["errors"][0]["field"] == "records.1.family_name"


def test_lone_surrogate_is_422(client: TestClient, hostile: Hostile, engine: Engine) -> None:
    raw = b'{"batch_id": "b1", "records": [{"source_id": "S-1", "given_name": "\\ud800x"}]}'
    response = client.post(
        BATCHES, content=raw, headers={**bearer(hostile.feed), "Content-Type": "application/json"}
    )
    assert_error(response, 422, "records.0.given_name")
    assert stored(engine) == NOTHING


def test_nul_in_query_path_and_form_is_422(client: TestClient, hostile: Hostile) -> None:
    response = client.get(
        "/api/v1/audit/events", params={"actor": "ad\x00min"}, headers=bearer(hostile.reader)
    )
    assert_error(response, 422, "actor")
    response = client.get("/api/v1/programmes/SEL85/records/S%001", headers=bearer(hostile.feed))
    assert_error(response, 422, "source_id")
    response = client.get("/api/v1/persons/ab%00cd", headers=bearer(hostile.reader))
    assert_error(response, 422, "person_id")
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "rea\x00der", "password": "x" * 12},
    )
    assert_error(response, 422, "username")


def test_rtl_combining_and_astral_text_is_stored_exactly(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    names = {
        "S-1": ("مريم", "العلي"),  # Arabic, right-to-left
        "S-2": ("\u202eadnaR", "Cohen\u200f"),  # RTL override and RLM: format chars, kept
        "S-3": ("Zoe\u0308", "Ngu\u0303\u0301yen"),  # combining diaeresis, tilde + acute
        "S-4": ("𝔄𝔡𝔞", "😀Smith"),  # astral plane (surrogate pairs in UTF-16)
    }
    records = [  # four different people: nothing for linkage to join
        record(
            sid,
            national_id=None,
            given_name=given,
            family_name=family,
            birth_date=f"19{40 + 11 * n}-0{n + 1}-1{n}",
            sex="FMFM"[n],
            mother_name=None,
        )
        for n, (sid, (given, family)) in enumerate(names.items())
    ]
    response = push(client, hostile.feed, {"batch_id": "b1", "records": records})
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["created"] * 4
    with engine.connect() as conn:
        held = dict(
            (row.source_id, (row.given_name, row.family_name))
            for row in conn.execute(
                text("SELECT source_id, given_name, family_name FROM source_record")
            )
        )
    assert held == names


# ---- SQL-looking strings --------------------------------------------------------------


def test_sql_looking_strings_are_data(client: TestClient, hostile: Hostile, engine: Engine) -> None:
    evil = "Robert'); DROP TABLE person; --"
    response = push(
        client,
        hostile.feed,
        {
            "batch_id": "b1'; DELETE FROM feed_batch; --",
            "records": [record("S-1' OR '1'='1", national_id=None, given_name=evil)],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "created"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT given_name FROM source_record")).scalar_one() == evil
        assert conn.execute(text("SELECT count(*) FROM feed_batch")).scalar_one() == 1


SQL_PARAMETERS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/programmes/SEL85' OR '1'='1/batches/x", {}),
    ("/api/v1/overview/coverage", {"by": "programme; DROP TABLE person"}),
    ("/api/v1/overview/coverage", {"as_of": "2024-01-01' OR 1=1 --"}),
    ("/api/v1/audit/events", {"cursor": "1 OR 1=1"}),
    ("/api/v1/audit/events", {"from": "2024-01-01'; DROP TABLE audit_event; --"}),
    ("/api/v1/persons/' OR ''='", {}),
]


def test_sql_looking_parameters_are_4xx(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    for path, params in SQL_PARAMETERS:
        token = hostile.feed if "programmes" in path else hostile.reader
        response = client.get(path, params=params, headers=bearer(token))
        assert 400 <= response.status_code < 500, (path, params, response.text)
        assert_error(response, response.status_code)
    with engine.connect() as conn:
        for table in ("person", "audit_event"):
            assert conn.execute(text(f"SELECT to_regclass('public.{table}')")).scalar()
