"""Audit manifests: the persons of a bulk answer, append-only, bound into the hash chain."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from registry.audit.manifest import CHUNK, manifest_digest, record_naming, verify_manifests
from registry.audit.schemas import ManifestCheck
from registry.audit.service import AuditContext, list_events, verify_chain, who_accessed
from registry.cli.main import app
from registry.core.db import transaction
from tests.factories import bearer, make_user, user_token

CONTEXT = AuditContext(actor="user:7", roles=("steward",))


def _persons(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def _export(engine: Engine, persons: list[str], **kwargs: object) -> int:
    """One links.export-like event naming `persons` through a manifest; its id."""
    with transaction(engine) as session:
        record_naming(
            session, CONTEXT, "links.export", person_ids=persons, inline_limit=0, **kwargs
        )
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM audit_event")).scalar_one())


def _tamper(superuser_engine: Engine, statement: str, **params: object) -> None:
    """What only a superuser could do: change the trail with the triggers bypassed."""
    with superuser_engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(statement), params)


def test_a_manifest_is_chunked_sorted_and_bound_by_its_digest(engine: Engine) -> None:
    persons = _persons(2 * CHUNK + 5)
    event_id = _export(engine, [*persons, persons[0], ""], detail={"chunks": 3})
    with engine.connect() as conn:
        event = conn.execute(
            text("SELECT person_ids, detail FROM audit_event WHERE id = :i"), {"i": event_id}
        ).one()
        chunks = conn.execute(
            text(
                "SELECT chunk, CAST(person_ids AS text[]) FROM audit_manifest "
                "WHERE event_id = :i ORDER BY chunk"
            ),
            {"i": event_id},
        ).all()
    assert event.person_ids == []  # the event row stays small
    listed = sorted(persons)
    assert event.detail == {
        "chunks": 3,
        "manifest": {"persons": len(listed), "chunks": 3, "sha256": manifest_digest(listed)},
    }
    assert [c for c, _ in chunks] == [0, 1, 2]
    assert [p for _, ids in chunks for p in ids] == listed
    assert len(chunks[0][1]) == CHUNK
    with transaction(engine) as session:
        assert verify_manifests(session) == ManifestCheck(manifests_checked=1)
        assert verify_chain(session).ok is True


def test_small_answers_stay_in_the_event_and_odd_ids_never_leave_it(engine: Engine) -> None:
    few = _persons(3)
    with transaction(engine) as session:
        record_naming(session, CONTEXT, "audit.read", person_ids=few)
        record_naming(
            session, CONTEXT, "audit.read", person_ids=[*few, "not-a-uuid"], inline_limit=2
        )
    with engine.connect() as conn:
        events = conn.execute(text("SELECT person_ids, detail FROM audit_event ORDER BY id")).all()
        manifests = conn.execute(text("SELECT count(*) FROM audit_manifest")).scalar_one()
    assert sorted(events[0].person_ids) == sorted(few) and events[0].detail == {}
    assert events[1].person_ids == ["not-a-uuid"]
    assert events[1].detail["manifest"]["persons"] == 3 and manifests == 1


def test_who_accessed_and_the_listing_find_a_person_named_in_a_manifest(engine: Engine) -> None:
    persons = _persons(5)
    event_id = _export(engine, persons)
    with transaction(engine) as session:
        (access,) = who_accessed(session, persons[3].upper())  # any spelling of the UUID
        assert (access.actor, access.action, access.events) == (
            "user:7",
            "links.export",
            1,
        )
        listed = list_events(session, person_id=persons[3]).events
        assert [e.id for e in listed] == [event_id]
        assert who_accessed(session, "no such person") == []
        assert list_events(session, person_id="no such person").events == []


def test_manifest_rows_refuse_update_delete_and_truncate(
    engine: Engine, owner_engine: Engine
) -> None:
    _export(engine, _persons(3))
    for statement in (
        "UPDATE audit_manifest SET person_ids = '{}'",
        "DELETE FROM audit_manifest",
        "TRUNCATE audit_manifest",
    ):
        # the application role holds no such privilege; the owner meets the trigger
        with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
            conn.execute(text(statement))
        with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    [
        # someone swapped for someone else: the digest no longer matches
        "UPDATE audit_manifest SET person_ids[1] = CAST(:someone AS uuid) WHERE event_id = :i",
        # a person dropped from the manifest: count and digest differ
        "UPDATE audit_manifest SET person_ids = person_ids[2:] WHERE event_id = :i",
        # a whole chunk removed
        "DELETE FROM audit_manifest WHERE event_id = :i AND chunk = 0",
        # a manifest row no event claims, naming someone who was never exported
        "INSERT INTO audit_manifest VALUES (:i + 1000, now(), 0, ARRAY[CAST(:someone AS uuid)])",
    ],
    ids=["swapped", "dropped", "chunk-removed", "orphan"],
)
def test_verify_names_the_event_whose_manifest_was_altered(
    cli_env: None,
    engine: Engine,
    superuser_engine: Engine,
    client: TestClient,
    statement: str,
) -> None:
    _export(engine, _persons(4))
    target = _export(engine, _persons(CHUNK + 1))
    make_user(engine, "auditor", ["auditor"])
    auditor = bearer(user_token(client, "auditor"))
    verified = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verified["ok"] is True and verified["manifests_checked"] == 2
    assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 0
    _tamper(superuser_engine, statement, i=target, someone=str(uuid.uuid4()))
    broken = client.get("/api/v1/audit/verify", headers=auditor).json()
    expected = target + 1000 if "INSERT" in statement else target
    assert broken["ok"] is False and broken["manifest_broken"] == expected
    said = CliRunner().invoke(app, ["audit", "verify"])
    assert said.exit_code == 1 and f"the manifest of event {expected} does not" in said.output
    # the chain itself is intact: only the manifest check could have caught this
    with transaction(engine) as session:
        assert verify_chain(session).ok is True
