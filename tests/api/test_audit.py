"""The audit trail: written with the work, append-only, and tamper-evident."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from registry.audit.service import AuditContext, record_identity_decision
from registry.cli.main import app
from registry.core.db import transaction
from tests.api.conftest import Setup
from tests.factories import PASSWORD, bearer, make_user, record, user_token


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
    client: TestClient, setup: Setup, engine: Engine, owner_engine: Engine
) -> None:
    _push_and_read(client, setup)
    for statement in (
        "UPDATE audit_event SET actor = 'someone else'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        # the app role holds no such privilege; the triggers refuse even the tables' owner
        with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
            conn.execute(text(statement))
        with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
            conn.execute(text(statement))


def test_verify_names_the_first_altered_event(
    client: TestClient, setup: Setup, superuser_engine: Engine, auditor: str
) -> None:
    _push_and_read(client, setup)
    _push_and_read(client, setup)
    ok = client.get("/api/v1/audit/verify", headers=bearer(auditor)).json()
    assert ok["ok"] is True and ok["events_checked"] >= 4
    with superuser_engine.begin() as conn:
        second = conn.execute(text("SELECT id FROM audit_event ORDER BY id OFFSET 1 LIMIT 1"))
        target = second.scalar_one()
        # a superuser can bypass the triggers; the chain still gives it away
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text("UPDATE audit_event SET purpose = 'tampered' WHERE id = :i"), {"i": target}
        )
    broken = client.get("/api/v1/audit/verify", headers=bearer(auditor)).json()
    assert broken == {
        "ok": False,
        "first_broken": target,
        "events_checked": 1,
        "problems": [f"event {target} was altered: its hash does not match its content"],
    }


def test_cli_verify_and_anchor(
    cli_env: None,
    client: TestClient,
    setup: Setup,
    engine: Engine,
    superuser_engine: Engine,
) -> None:
    _push_and_read(client, setup)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    verified = CliRunner().invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and f"audit chain ok: {count} events" in verified.output
    anchor = CliRunner().invoke(app, ["audit", "anchor"])
    assert anchor.exit_code == 0 and len(anchor.output.split()[0]) == 64
    with superuser_engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_event WHERE id = (SELECT min(id) FROM audit_event)"))
    assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 1


def _events(engine: Engine, since_id: int = 0) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, actor, roles, action, outcome, person_ids, record_ids, detail, "
                "client_address, request_id FROM audit_event WHERE id > :i ORDER BY id"
            ),
            {"i": since_id},
        ).mappings()
        return [dict(r) for r in rows]


def _last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar_one())


def test_sign_in_success_and_failure_each_write_one_event(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    start = _last_id(engine)
    user_token(client, "analyst")
    failed = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "analyst", "password": "not it at all"},
        headers={"X-Request-ID": "req-login-1"},
    )
    assert failed.status_code == 401
    unknown = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "ghost", "password": "not it at all"},
    )
    assert unknown.status_code == 401
    events = _events(engine, start)
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("auth.login", "ok"),
        ("auth.login", "failure"),
        ("auth.login", "failure"),
    ]
    ok, bad, ghost = events
    assert ok["actor"].startswith("user:") and ok["roles"] == ["analyst"]
    # the failure survived the 401's rollback: it was written in a transaction of its own
    assert bad["actor"] == ok["actor"] and bad["request_id"] == "req-login-1"
    assert bad["detail"] == {"login": "user:analyst", "reason": "bad_credentials", "locked": False}
    assert ghost["actor"] == "anonymous" and ghost["detail"]["login"] == "user:ghost"
    assert PASSWORD not in str(events) and "not it at all" not in str(events)


def test_refused_requests_are_audited_with_who_was_refused(
    client: TestClient, setup: Setup, engine: Engine, settings: Any
) -> None:
    start = _last_id(engine)
    analyst = str(__import__("jose").jwt.get_unverified_claims(setup.analyst)["sub"])
    assert client.get("/api/v1/audit/events", headers=bearer(setup.analyst)).status_code == 403
    assert client.get("/api/v1/programmes").status_code == 401
    forged = setup.analyst[:-4] + "AAAA"
    assert client.get("/api/v1/programmes", headers=bearer(forged)).status_code == 401
    feed = client.get("/api/v1/programmes/SEL104/records/x", headers=bearer(setup.sel85))
    assert feed.status_code == 403
    events = _events(engine, start)
    assert [(e["action"], e["outcome"], e["actor"]) for e in events] == [
        ("access.refused", "forbidden", analyst),
        ("access.refused", "unauthenticated", "anonymous"),
        ("access.refused", "unauthenticated", f"claimed:{analyst}"),
        ("access.refused", "forbidden", str(events[3]["actor"])),
    ]
    assert events[0]["roles"] == ["analyst"]
    assert events[0]["detail"] == {"method": "GET", "route": "/api/v1/audit/events", "status": 403}
    assert events[3]["actor"].startswith("client:sel85-") and events[3]["roles"] == ["feed"]
    # no event of the refused work itself was left behind
    assert not [e for e in events if e["action"] == "record.read"]


def test_admin_changes_each_write_exactly_their_event(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    admin = bearer(setup.admin)
    steps: list[tuple[str, str, dict[str, Any] | None, str]] = [
        (
            "POST",
            "/api/v1/programmes",
            {"code": "SEL96", "name": "BPA", "benefit_codes": ["1.13.2"]},
            "programme.create",
        ),
        (
            "POST",
            "/api/v1/users",
            {"username": "eve", "password": PASSWORD, "roles": ["analyst"]},
            "user.create",
        ),
        ("POST", "/api/v1/users/eve/disable", None, "user.disable"),
        ("POST", "/api/v1/users/eve/enable", None, "user.enable"),
        ("POST", "/api/v1/clients", {"programme": "SEL85", "name": "MIS 2"}, "client.create"),
    ]
    for method, path, body, action in steps:
        start = _last_id(engine)
        response = client.request(method, path, json=body, headers=admin)
        assert response.status_code in (200, 201), response.text
        events = _events(engine, start)
        assert [e["action"] for e in events] == [action], path
        assert events[0]["outcome"] == "ok" and events[0]["roles"] == ["admin"]
        assert PASSWORD not in str(events[0]["detail"])
    client_id = client.post(
        "/api/v1/clients", json={"programme": "SEL85", "name": "MIS 3"}, headers=admin
    ).json()["client_id"]
    start = _last_id(engine)
    rotated = client.post(f"/api/v1/clients/{client_id}/secret", headers=admin)
    events = _events(engine, start)
    assert [e["action"] for e in events] == ["client.rotate_secret"]
    assert events[0]["detail"] == {"client_id": client_id, "programme": "SEL85"}
    assert rotated.json()["client_secret"] not in str(events)
    # a refused admin change writes only the refusal
    start = _last_id(engine)
    body = {"username": "mallory", "password": PASSWORD, "roles": ["admin"]}
    assert (
        client.post("/api/v1/users", json=body, headers=bearer(setup.oversight)).status_code == 403
    )
    assert [e["action"] for e in _events(engine, start)] == ["access.refused"]
    # logout and password change are audited too
    start = _last_id(engine)
    change = {"current_password": PASSWORD, "new_password": "another long passphrase"}
    assert (
        client.patch("/api/v1/users/me", json=change, headers=bearer(setup.analyst)).status_code
        == 204
    )
    assert client.post("/api/v1/auth/logout", headers=bearer(setup.oversight)).status_code == 204
    assert [e["action"] for e in _events(engine, start)] == ["user.password_change", "auth.logout"]


def test_identity_decision_helper_writes_ids_only(engine: Engine) -> None:
    context = AuditContext(actor="user:7", roles=("steward",), request_id="r-1")
    with transaction(engine) as session:
        record_identity_decision(
            session,
            context,
            "person.merge",
            person_ids=["b", "a", "a"],
            record_ids=["SEL85:2", "SEL85:1"],
            decision="match",
            candidate_id=12,
            link_event_id=5,
        )
    (event,) = _events(engine)
    assert event["action"] == "person.merge" and event["actor"] == "user:7"
    assert event["person_ids"] == ["a", "b"] and event["record_ids"] == ["SEL85:1", "SEL85:2"]
    assert event["detail"] == {"decision": "match", "candidate_id": "12", "link_event_id": 5}
    # rolled back with the work: no decision, no event
    with pytest.raises(RuntimeError), transaction(engine) as session:
        record_identity_decision(session, context, "person.split", person_ids=["a"])
        raise RuntimeError("the split failed")
    assert len(_events(engine)) == 1


def test_cursor_pages_and_csv_export(
    client: TestClient, setup: Setup, auditor: str, engine: Engine
) -> None:
    for n in range(3):
        _push_and_read(client, setup) if n == 0 else client.get(
            "/api/v1/programmes", headers=bearer(setup.oversight)
        )
    all_ids: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/audit/events", params=params, headers=bearer(auditor)).json()
        all_ids += [e["id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with engine.connect() as conn:
        stored = list(conn.execute(text("SELECT id FROM audit_event ORDER BY id DESC")).scalars())
    stored = [i for i in stored if i <= all_ids[0]]  # each page's own audit.read came later
    assert all_ids == stored[: len(all_ids)] and len(all_ids) == len(set(all_ids))
    assert len(all_ids) >= len(stored) - 1  # the auditor's own sign-in may land meanwhile
    exported = client.get(
        "/api/v1/audit/events",
        params={"limit": 4},
        headers={**bearer(auditor), "Accept": "text/csv"},
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4 and int(exported.headers["x-next-cursor"]) == int(rows[-1]["id"])
    assert list(rows[0]) == [
        "id",
        "occurred_at",
        "actor",
        "roles",
        "action",
        "outcome",
        "person_ids",
        "record_ids",
        "purpose",
        "request_id",
        "client_address",
        "detail",
        "hash",
    ]
    by_person = client.get(
        "/api/v1/audit/events",
        params={"action": "person.read"},
        headers={**bearer(auditor), "Accept": "text/csv"},
    )
    (read,) = csv.DictReader(io.StringIO(by_person.text))
    assert read["purpose"] == "case 42 review" and "x-next-cursor" not in by_person.headers


def test_csv_export_neutralises_formulas(client: TestClient, setup: Setup, auditor: str) -> None:
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        headers=bearer(setup.sel85),
        json={"batch_id": "b1", "records": [record("SEL85-1")]},
    ).json()
    person = answer["results"][0]["person_id"]
    headers = {**bearer(setup.oversight), "X-Purpose": '=HYPERLINK("http://evil")'}
    assert client.get(f"/api/v1/persons/{person}", headers=headers).status_code == 200
    exported = client.get(
        "/api/v1/audit/events",
        params={"action": "person.read"},
        headers={**bearer(auditor), "Accept": "text/csv"},
    )
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert row["purpose"].startswith("'=")


def test_who_accessed_a_person_in_one_answer(
    client: TestClient, setup: Setup, auditor: str
) -> None:
    person = _push_and_read(client, setup)
    for purpose in ("case 42 review", "case 43"):
        headers = {**bearer(setup.oversight), "X-Purpose": purpose}
        assert client.get(f"/api/v1/persons/{person}", headers=headers).status_code == 200
    answer = client.get(f"/api/v1/audit/persons/{person}/accesses", headers=bearer(auditor))
    assert answer.status_code == 200
    accesses = answer.json()["accesses"]
    reads = [a for a in accesses if a["action"] == "person.read"]
    writes = [a for a in accesses if a["action"] == "feed.batch"]
    assert len(reads) == 1 and reads[0]["events"] == 3 and reads[0]["roles"] == ["oversight"]
    assert reads[0]["purposes"] == ["case 42 review", "case 43"]
    assert len(writes) == 1 and writes[0]["actor"].startswith("client:")
    assert (
        client.get(
            f"/api/v1/audit/persons/{person}/accesses", headers=bearer(setup.oversight)
        ).status_code
        == 403
    )
