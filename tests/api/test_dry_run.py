"""Test deliveries: `?dry_run=true` answers as the real batch would and keeps nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, push, record

#: Every table a batch writes to (directly or by trigger).
WRITTEN = (
    "person",
    "person_identifier",
    "source_record",
    "source_record_version",
    "enrolment",
    "overview_dirty",
    "match_candidate",
    "blocking_key",
    "feed_batch",
    "feed_error",
    "batch_active_count",
    "link_event",
)


def snapshot(engine: Engine) -> dict[str, str]:
    """Each written table's rows, as one digest per table."""
    with engine.connect() as conn:
        return {
            table: conn.execute(
                text(
                    f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                    f"ORDER BY t::text)), '') FROM {table} t"
                )
            ).scalar_one()
            for table in WRITTEN
        }


def dry(client: TestClient, token: str, batch_id: str, records: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/programmes/SEL85/batches?dry_run=true",
        json={"batch_id": batch_id, "records": records},
        headers=bearer(token),
    )


def no_id(source_id: str, **overrides: Any) -> dict[str, Any]:
    return record(source_id, national_id=None, **overrides)


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without the id of a person the dry run could not keep."""
    return {k: v for k, v in result.items() if not (k == "person_id" and v is None)}


def test_dry_run_previews_created_linked_review_and_rejected_and_keeps_nothing(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [no_id("A"), record("K")]).json()
    assert [r["status"] for r in first["results"]] == ["created", "linked"]
    batch = [
        record("N", national_id="0101901234", given_name="Jens", birth_date="1990-01-01"),
        record("K2"),  # the known national ID: linked
        no_id("R", given_name="Birte", mother_name=None, municipality="101", region="1081"),
        record("BAD", enrolment={"status": "exited"}),
        record("K", enrolment={"status": "ended", "end_date": "2024-01-31"}),  # an update
    ]
    before = snapshot(engine)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()

    preview = dry(client, setup.sel85, "t1", batch)
    assert preview.status_code == 200, preview.text
    answer = preview.json()

    assert answer["dry_run"] is True
    assert [r["status"] for r in answer["results"]] == [
        "created",
        "linked",
        "review",
        "rejected",
        "linked",
    ]
    assert answer["results"][0]["person_id"] is None  # a new person the rollback undid
    assert answer["results"][3]["errors"][0]["field"] == "enrolment.status"
    assert snapshot(engine) == before
    with engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT action, actor, person_ids, detail->>'batch_id' FROM audit_event "
                "WHERE id > :n ORDER BY id"
            ),
            {"n": events},
        ).all()
    named = sorted({r["person_id"] for r in answer["results"] if r.get("person_id")})
    assert [(a[0], a[3]) for a in audit] == [("feed.dry_run", "t1")]
    assert sorted(audit[0].person_ids) == named

    # the batch id is free: the real batch with that id ingests, and answers the same
    real = push(client, setup.sel85, "SEL85", "t1", batch).json()
    assert "dry_run" not in real
    assert {k: v for k, v in real.items() if k != "results"} == {
        k: v for k, v in answer.items() if k not in ("results", "dry_run")
    }
    for previewed, sent in zip(answer["results"], real["results"], strict=True):
        assert comparable(previewed) == {
            k: v for k, v in sent.items() if k in comparable(previewed)
        }
        assert previewed.keys() == sent.keys()
    assert snapshot(engine) != before


def test_dry_run_of_a_received_batch_answers_its_stored_answer_and_changes_nothing(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    real = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()
    before = snapshot(engine)
    again = dry(client, setup.sel85, "b1", [record("A")]).json()
    assert again == {**real, "dry_run": True}
    assert dry(client, setup.sel85, "b1", [record("B")]).status_code == 409
    assert snapshot(engine) == before


def test_another_programmes_client_cannot_dry_run_this_programme(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    refused = dry(client, setup.sel104, "t1", [record("A")])
    assert refused.status_code == 403
    assert snapshot(engine)["source_record"].startswith("0:")
