"""Feed ingest through the HTTP API, on the real database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from registry.core.locks import LockSpace
from registry.submission import after_commit
from tests.api.conftest import Setup
from tests.factories import bearer, push, record


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_same_national_id_links_across_programmes(client: TestClient, setup: Setup) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")]).json()
    other = record("SEL104-9", enrolment={"benefit_code": "1.1", "target_group": "1.1.1"})
    second = push(client, setup.sel104, "SEL104", "c1", [other]).json()
    created, linked = first["results"][0], second["results"][0]
    assert created["status"] == "created" and created["method"] == "new"
    assert linked["status"] == "linked" and linked["method"] == "national_id"
    assert linked["person_id"] == created["person_id"]

    person = client.get(
        f"/api/v1/persons/{created['person_id']}", headers=bearer(setup.oversight)
    ).json()
    held = {(p["programme"], p["source_id"]) for p in person["programmes"]}
    assert held == {("SEL85", "SEL85-1"), ("SEL104", "SEL104-9")}
    benefits = {e["benefit_code"] for p in person["programmes"] for e in p["enrolments"]}
    assert benefits == {"1.12.0.2", "1.1"}


def test_records_without_id_or_with_different_ids_make_different_persons(
    client: TestClient, setup: Setup
) -> None:
    answer = push(
        client,
        setup.sel85,
        "SEL85",
        "b1",
        [
            record("A", national_id="0705404916"),
            record("B", national_id="0101901234", given_name="Jens", birth_date="1990-01-01"),
            record("C", national_id=None, given_name="Ole"),
            record("D", national_id="0705404916", given_name="Britta M."),
        ],
    ).json()
    people = [r["person_id"] for r in answer["results"]]
    assert len(set(people[:3])) == 3
    assert people[3] == people[0]
    assert answer["results"][3]["status"] == "linked"


def test_update_keeps_every_version_and_supersedes_the_episode(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    changed = record("SEL85-1", enrolment={"status": "ended", "end_date": "2024-06-30"})
    answer = push(client, setup.sel85, "SEL85", "b2", [changed]).json()
    assert answer["results"][0]["status"] == "linked"

    held = client.get("/api/v1/programmes/SEL85/records/SEL85-1", headers=bearer(setup.sel85))
    body = held.json()
    assert body["version"] == 2
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][0]["payload"]["enrolment"]["end_date"] is None
    assert body["versions"][1]["payload"]["enrolment"]["end_date"] == "2024-06-30"
    episodes = body["enrolments"]
    assert len(episodes) == 2
    assert episodes[0]["superseded_at"] is not None and episodes[1]["superseded_at"] is None
    assert episodes[1]["end_date"] == "2024-06-30"
    assert "0705404916" not in held.text


def test_unchanged_record_changes_nothing(client: TestClient, setup: Setup, engine: Engine) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    answer = push(client, setup.sel85, "SEL85", "b2", [record("SEL85-1")]).json()
    assert answer["unchanged"] == 1 and answer["accepted"] == 0
    assert answer["results"][0]["status"] == "unchanged"
    assert count(engine, "source_record_version") == 1
    assert count(engine, "enrolment") == 1


def test_good_records_stored_bad_ones_reported_nothing_else_changed(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    bad = record("SEL85-2", enrolment={"start_date": "2023-01-23", "end_date": "2021-01-01"})
    answer = push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1"), bad]).json()
    assert (answer["received"], answer["accepted"], answer["rejected"]) == (2, 1, 1)
    rejected = answer["results"][1]
    assert rejected["status"] == "rejected"
    assert rejected["errors"] == [
        {
            "field": "enrolment.end_date",
            "code": "end_before_start",
            "message": "end date 2021-01-01 is before start date 2023-01-23",
        }
    ]
    assert count(engine, "source_record") == 1
    assert count(engine, "person") == 1
    assert count(engine, "enrolment") == 1
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT source_id, code FROM feed_error")).all()
    assert [tuple(r) for r in stored] == [("SEL85-2", "end_before_start")]


def test_resend_returns_first_answer_and_other_content_conflicts(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    again = push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    assert again.status_code == 200
    assert again.json() == first.json()
    assert count(engine, "source_record_version") == 1
    assert count(engine, "feed_batch") == 1

    other = push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1", given_name="Bent")])
    assert other.status_code == 409
    assert other.json()["error"] == "Conflict"
    assert count(engine, "source_record_version") == 1

    stored = client.get("/api/v1/programmes/SEL85/batches/b1", headers=bearer(setup.sel85))
    assert stored.status_code == 200
    assert stored.json()["results"] == first.json()["results"]


def test_batch_over_the_limit_is_413_and_stores_nothing(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    records = [{"source_id": f"X{i}"} for i in range(10_001)]
    response = push(client, setup.sel85, "SEL85", "big", records)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert count(engine, "feed_batch") == 0


def test_retraction_withdraws_the_record_and_ends_its_episode(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    answer = push(
        client,
        setup.sel85,
        "SEL85",
        "b2",
        [
            {"source_id": "SEL85-1", "retracted": True},
            {"source_id": "never-sent", "retracted": True},
        ],
    ).json()
    assert [r["status"] for r in answer["results"]] == ["retracted", "rejected"]
    assert answer["results"][1]["errors"][0]["code"] == "unknown_source_id"
    held = client.get(
        "/api/v1/programmes/SEL85/records/SEL85-1", headers=bearer(setup.sel85)
    ).json()
    assert held["retracted"] is True and held["version"] == 2
    assert all(e["superseded_at"] is not None for e in held["enrolments"])


def test_invalid_national_id_is_a_warning_and_not_used_for_linking(
    client: TestClient, setup: Setup
) -> None:
    first = push(
        client,
        setup.sel85,
        "SEL85",
        "b1",
        [
            record("A", national_id="3213404916"),
            record(
                "B",
                national_id="3213404916",
                given_name="Mohammed",
                family_name="Yilmaz",
                birth_date="1977-11-02",
                sex="M",
                mother_name="Ayse Yilmaz",
            ),
        ],
    ).json()
    a, b = first["results"]
    assert a["status"] == "created" and b["status"] == "created"
    assert a["person_id"] != b["person_id"]
    assert a["warnings"][0]["field"] == "national_id"
    assert a["warnings"][0]["code"] == "invalid_date"


def test_raw_national_id_is_never_stored(client: TestClient, setup: Setup, engine: Engine) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("SEL85-1")])
    with engine.connect() as conn:
        dump = conn.execute(
            text(
                "SELECT string_agg(t::text, '|') FROM (SELECT row_to_json(r)::text AS t FROM "
                "source_record r UNION ALL SELECT payload::text FROM source_record_version "
                "UNION ALL SELECT response::text FROM feed_batch) x"
            )
        ).scalar_one()
    assert "0705404916" not in dump and "070540-4916" not in dump


def test_summary_refresh_and_active_count_run_after_the_batch_commits(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    """They are not part of the batch: by then its answer is durable and its locks are free."""
    seen: list[tuple[bool, bool]] = []

    def check(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO batch_active_count" not in statement:
            return
        with engine.connect() as other:
            committed = other.execute(
                text("SELECT response IS NOT NULL FROM feed_batch WHERE batch_id = 'b1'")
            ).scalar()
            free = other.execute(
                text("SELECT pg_try_advisory_lock(:s, 0)"), {"s": int(LockSpace.LINKAGE)}
            ).scalar_one()
            if free:
                other.execute(
                    text("SELECT pg_advisory_unlock(:s, 0)"), {"s": int(LockSpace.LINKAGE)}
                )
        seen.append((bool(committed), bool(free)))

    event.listen(engine, "before_cursor_execute", check)
    try:
        # no national ID: the batch goes through probabilistic linkage, under the linkage lock
        answer = push(client, setup.sel85, "SEL85", "b1", [record("N1", national_id=None)])
    finally:
        event.remove(engine, "before_cursor_execute", check)
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "created"
    assert seen == [(True, True)]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM overview_dirty")).scalar_one() == 0
        counted = conn.execute(text("SELECT active_enrolments FROM batch_active_count")).all()
    assert [tuple(r) for r in counted] == [(1,)]


def test_a_failed_summary_refresh_does_not_fail_the_committed_batch(
    client: TestClient, setup: Setup, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: Any) -> None:
        raise OperationalError("refresh", {}, Exception("connection lost"))

    monkeypatch.setattr(after_commit, "finish_batch", fail)
    answer = push(client, setup.sel85, "SEL85", "b1", [record("N1")])
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert count(engine, "source_record") == 1
    assert count(engine, "overview_dirty") >= 1  # left for the next refresh
    assert count(engine, "batch_active_count") == 0
