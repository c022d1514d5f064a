"""The audit trail: written with the work, append-only, and tamper-evident."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from registry.cli import app
from tests.api.conftest import Setup
from tests.factories import bearer, make_user, record, user_token


@pytest.fixture
def auditor(engine: Engine, client: TestClient) -> str:
    make_user(engine, "auditor", ["auditor"])
    return user_token(client, "auditor")


def _push_and_read(client: TestClient, setup: Setup) -> str:
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        headers=bearer(setup.sel85),
        json={"batch_id": "b1", "records": [record("SEL85-1")]},
    ).json()
    person = answer["results"][0]["person_id"]
    headers = {**bearer(setup.oversight), "X-Purpose": "case 42 review"}
    assert client.get(f"/api/v1/persons/{person}", headers=headers).status_code == 200
    return str(person)


def test_feed_write_and_person_read_are_audited(
    client: TestClient, setup: Setup, auditor: str
) -> None:
    person = _push_and_read(client, setup)
    listing = client.get(
        "/api/v1/audit/events", params={"person_id": person}, headers=bearer(auditor)
    )
    assert listing.status_code == 200
    events = listing.json()["events"]
    assert [e["action"] for e in events] == ["person.read", "feed.batch"]
    read, write = events
    assert read["purpose"] == "case 42 review" and read["actor"].startswith("user:")
    assert write["record_ids"] == ["SEL85:SEL85-1"] and write["actor"].startswith("client:")
    assert "Britta" not in listing.text and "0705404916" not in listing.text


def test_only_auditors_read_the_trail(client: TestClient, setup: Setup) -> None:
    for token in (setup.admin, setup.oversight, setup.sel85):
        assert client.get("/api/v1/audit/events", headers=bearer(token)).status_code == 403
        assert client.get("/api/v1/audit/verify", headers=bearer(token)).status_code == 403


def test_update_delete_truncate_are_refused(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    _push_and_read(client, setup)
    for statement in (
        "UPDATE audit_event SET actor = 'someone else'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_verify_names_the_first_altered_event(
    client: TestClient, setup: Setup, engine: Engine, auditor: str
) -> None:
    _push_and_read(client, setup)
    _push_and_read(client, setup)
    ok = client.get("/api/v1/audit/verify", headers=bearer(auditor)).json()
    assert ok["ok"] is True and ok["events_checked"] >= 4
    with engine.begin() as conn:
        second = conn.execute(text("SELECT id FROM audit_event ORDER BY id OFFSET 1 LIMIT 1"))
        target = second.scalar_one()
        # a superuser can bypass the triggers; the chain still gives it away
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text("UPDATE audit_event SET purpose = 'tampered' WHERE id = :i"), {"i": target}
        )
    broken = client.get("/api/v1/audit/verify", headers=bearer(auditor)).json()
    assert broken == {"ok": False, "first_broken": target, "events_checked": 1}


def test_cli_verify_and_anchor(
    cli_env: None,
    client: TestClient,
    setup: Setup,
    engine: Engine,
) -> None:
    _push_and_read(client, setup)
    verified = CliRunner().invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain ok: 2 events" in verified.output
    anchor = CliRunner().invoke(app, ["audit", "anchor"])
    assert anchor.exit_code == 0 and len(anchor.output.split()[0]) == 64
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_event WHERE id = (SELECT min(id) FROM audit_event)"))
    assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 1
