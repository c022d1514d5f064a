"""Structured logs: JSON lines with request ids, and never a name or a national ID."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.core.logging import JsonFormatter, configure_logging
from tests.factories import (
    bearer,
    client_token,
    make_client,
    make_programme,
    make_user,
    record,
    user_token,
)

NATIONAL_IDS = ("0705404916", "1203551234", "2912781122")
NAMES = ("Ingeborg", "Vestergaard-Kjærsgaard", "Zoë", "Mørkeberg")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged (our loggers, uvicorn's, SQLAlchemy's) as the JSON handler writes it."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json")
    root.handlers[0].stream = stream  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], root.level = saved


def test_no_personal_data_in_logs_and_every_line_has_a_request_id(
    captured: io.StringIO, engine: Engine, client: TestClient
) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_user(engine, "over", ["oversight"], ["*"])
    feed = bearer(client_token(client, *make_client(engine, "SEL85")))
    reader = {**bearer(user_token(client, "over")), "X-Request-ID": "trace-4711"}
    records = [
        record("S-1", national_id=NATIONAL_IDS[0], given_name=NAMES[0], family_name=NAMES[1]),
        record("S-2", national_id=NATIONAL_IDS[1], given_name=NAMES[2], mother_name=NAMES[3]),
        # rejected records: their values appear in the answer, never in the logs
        record("S-3", national_id=NATIONAL_IDS[2], given_name=NAMES[0] * 300),
        record("S-4", national_id=NATIONAL_IDS[2], family_name=NAMES[1], birth_date="2999-01-01"),
    ]
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": "b1", "records": records},
        headers=feed,
    )
    assert answer.status_code == 200, answer.text
    person_id = answer.json()["results"][0]["person_id"]
    assert client.get(f"/api/v1/persons/{person_id}", headers=reader).status_code == 200
    # searches and failures that carry personal data in the URL or the body
    client.get(f"/api/v1/persons?national_id={NATIONAL_IDS[0]}", headers=reader)
    client.get(f"/api/v1/persons/{NATIONAL_IDS[1]}", headers=reader)
    client.get(f"/api/v1/programmes/SEL85/records/{NAMES[0]}", headers=feed)
    client.post(
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": "b2", "records": [record("S-9", given_name=NAMES[2] + "\u0000")]},
        headers=feed,
    )
    client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": NAMES[3], "password": NATIONAL_IDS[0] * 2},
    )
    client.post(
        "/api/v1/programmes/SEL85/batches",
        content=f'{{"batch_id": "{NATIONAL_IDS[2]}", "records": [{NAMES[0]}'.encode(),
        headers={**feed, "Content-Type": "application/json"},
    )

    output = captured.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "registry.access"]
    assert len(access) >= 9
    for secret in (*NATIONAL_IDS, *NAMES, NAMES[0].upper(), "0705404916"[:6] + "-4916"):
        assert secret not in output, f"{secret!r} leaked into the logs"
    for line in access:  # one JSON line per request: route template, status, time, request id
        assert set(line) >= {"ts", "level", "request_id", "method", "route", "status"}
        assert "?" not in line["route"]
    assert {"route": "/api/v1/persons/{person_id}", "status": 200, "request_id": "trace-4711"} in [
        {k: line[k] for k in ("route", "status", "request_id")} for line in access
    ]
    with engine.connect() as conn:  # the audit trail records the same request id
        ids = conn.execute(
            text("SELECT request_id FROM audit_event WHERE action = 'person.read'")
        ).scalars()
        assert "trace-4711" in set(ids)


def test_request_id_is_echoed_and_sanitised(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    forged = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert forged.headers["x-request-id"] != "x" * 500
    assert len(forged.headers["x-request-id"]) == 32
    assert client.get("/healthz").headers["x-request-id"] != forged.headers["x-request-id"]


def test_exceptions_are_logged_without_their_message() -> None:
    secret = NATIONAL_IDS[0]
    try:
        raise ValueError(f"Key (national_id)=({secret}) already exists")
    except ValueError:
        record_ = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record_.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record_))
    assert line["exc_type"] == "ValueError"
    assert "raise ValueError" in line["stack"]  # where it happened is kept
    assert secret not in json.dumps(line)
