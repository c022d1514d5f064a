"""The hash chain under concurrency, and the audit switch that only benchmarks may turn off."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select, text

from registry.audit.models import AuditEvent
from registry.audit.service import (
    AuditContext,
    chain_hash,
    event_fields,
    record_event,
    verify_chain,
)
from registry.core.db import transaction
from registry.core.errors import ConfigurationError
from registry.core.settings import Settings

WRITERS = 8
EVENTS_EACH = 25


def test_eight_concurrent_writers_leave_one_unbroken_chain(engine: Engine) -> None:
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            context = AuditContext(actor=f"user:{n}", roles=("steward",))
            barrier.wait(timeout=30)
            for i in range(EVENTS_EACH):
                with transaction(engine) as session:
                    record_event(session, context, "person.read", person_ids=[f"p{n}-{i}"])
                    # some work after the event, as a request does before its commit
                    session.execute(text("SELECT pg_sleep(0.001)"))
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    with transaction(engine) as session:
        outcome = verify_chain(session)
        links = session.execute(
            text(
                "SELECT count(*), count(DISTINCT prev_hash), count(DISTINCT actor) FROM audit_event"
            )
        ).one()
    assert outcome.ok is True and outcome.events_checked == WRITERS * EVENTS_EACH
    # no fork: every event has its own predecessor, and all writers are in the one chain
    assert tuple(links) == (WRITERS * EVENTS_EACH, WRITERS * EVENTS_EACH, WRITERS)


def test_a_rolled_back_event_leaves_no_gap_in_the_chain(engine: Engine) -> None:
    context = AuditContext(actor="user:1", roles=("oversight",))
    with transaction(engine) as session:
        record_event(session, context, "person.read", person_ids=["a"])
    with pytest.raises(RuntimeError), transaction(engine) as session:
        record_event(session, context, "person.read", person_ids=["b"])
        raise RuntimeError("the read failed")
    with transaction(engine) as session:
        record_event(session, context, "person.read", person_ids=["c"])
        assert verify_chain(session).to_json() == {
            **verify_chain(session).to_json(),
            "ok": True,
            "events_checked": 2,
        }


def test_recomputing_an_altered_events_hash_breaks_the_next_link(
    engine: Engine, superuser_engine: Engine
) -> None:
    context = AuditContext(actor="user:1", roles=("oversight",))
    with transaction(engine) as session:
        for person in ("a", "b", "c"):
            record_event(session, context, "person.read", person_ids=[person])
    with transaction(superuser_engine) as session:
        first, second = session.scalars(select(AuditEvent).order_by(AuditEvent.id).limit(2))
        first_id, second_id = first.id, second.id
        # a careful forger (a superuser, past the triggers) rewrites the event *and* its hash
        session.execute(text("SET LOCAL session_replication_role = replica"))
        first.actor = "user:2"
        forged = chain_hash(bytes(first.prev_hash), event_fields(first))
        session.execute(
            text("UPDATE audit_event SET actor = 'user:2', hash = :h WHERE id = :i"),
            {"h": forged, "i": first_id},
        )
        session.expunge_all()
    with transaction(engine) as session:
        outcome = verify_chain(session)
    # the forged event checks out on its own; the next one's link names the break
    assert outcome.to_json() == {
        "ok": False,
        "first_broken": second_id,
        "events_checked": 1,
        "problems": [
            f"gap after event {first_id}: event {second_id} does not chain to it "
            f"(events deleted, or event {first_id} rewritten)"
        ],
    }


def test_audit_can_be_switched_off_only_for_benchmarks(engine: Engine) -> None:
    for env in ("test", "prod"):
        with pytest.raises(ConfigurationError, match="dev or bench"):
            Settings(env=env, audit_enabled=False)
    assert Settings(env="bench", audit_enabled=False).audit_enabled is False
    with transaction(engine) as session:
        record_event(session, AuditContext("user:1", ("oversight",), enabled=False), "person.read")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 0
