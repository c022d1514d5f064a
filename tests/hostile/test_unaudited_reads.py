"""Reads that escaped "who accessed": every answer carrying persons names them in the trail.

The attack: a user reads personal data through a route whose audit event names fewer persons
than the answer carried (or none), so GET /api/v1/audit/persons/{id}/accesses, the data
subject's "who accessed me", never shows the read. Each test performs the read and asks, for
every person the answer carried, whether the trail lists it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.factories import bearer, make_user, push, record, user_token
from tests.hostile.conftest import Hostile

#: A record the linkage is unsure of: it goes to the review queue against the first one.
UNCERTAIN = {
    "national_id": None,
    "given_name": "Birte",
    "mother_name": None,
    "municipality": "101",
    "region": "1081",
}


@pytest.fixture
def inspector(engine: Engine, client: TestClient) -> str:
    """A second auditor, who asks "who accessed" (so the reads checked are the others')."""
    make_user(engine, "inspector", ["auditor"])
    return user_token(client, "inspector")


def accessed(client: TestClient, inspector: str, person: str) -> dict[str, set[str]]:
    """Who accessed a person: action -> actors."""
    answer = client.get(f"/api/v1/audit/persons/{person}/accesses", headers=bearer(inspector))
    assert answer.status_code == 200, answer.text
    found: dict[str, set[str]] = {}
    for access in answer.json()["accesses"]:
        found.setdefault(access["action"], set()).add(access["actor"])
    return found


def actor(token: str) -> str:
    """The audit actor of a token's holder."""
    claims = __import__("jose").jwt.get_unverified_claims(token)
    return str(claims["sub"])


def _word(seed: str) -> str:
    """A made-up name, unlike any other seed's."""
    return "".join(chr(97 + int(c, 16)) for c in hashlib.sha256(seed.encode()).hexdigest()[:9])


def separate_persons(client: TestClient, hostile: Hostile, batch: str, n: int) -> list[str]:
    """n records of n distinct persons (no national ID, nothing alike): their person ids."""
    records = [
        record(
            f"{batch}-{i}",
            national_id=None,
            given_name=_word(f"{batch} given {i}"),
            family_name=_word(f"{batch} family {i}"),
            birth_date=(date(1930, 1, 1) + timedelta(days=11 * i)).isoformat(),
            mother_name=None,
        )
        for i in range(n)
    ]
    answer = push(client, hostile.feed, "SEL85", batch, records)
    assert answer.status_code == 200, answer.text
    persons = {r["person_id"] for r in answer.json()["results"]}
    assert len(persons) == n
    return sorted(persons)


def decided_pair(client: TestClient, hostile: Hostile) -> dict[str, Any]:
    """A review item settled as non_match: its record and its candidate are two persons."""
    push(client, hostile.feed, "SEL85", "b1", [record("A")])
    second = push(client, hostile.feed, "SEL85", "b2", [record("B", **UNCERTAIN)]).json()
    assert second["results"][0]["status"] == "review"
    (item,) = client.get("/api/v1/review", headers=bearer(hostile.reader)).json()["items"]
    decision = client.post(
        f"/api/v1/review/{item['id']}/decision",
        json={"decision": "non_match", "note": "two people"},
        headers=bearer(hostile.reader),
    )
    assert decision.status_code == 200, decision.text
    return dict(item)


def test_review_queue_names_the_record_side_too(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    decided_pair(client, hostile)
    listing = client.get(
        "/api/v1/review", params={"status": "non_match"}, headers=bearer(hostile.reader)
    )
    (item,) = listing.json()["items"]
    shown = {item["record"]["person_id"], item["candidate"]["person_id"]}
    assert len(shown) == 2  # the record's person and the candidate are two people
    steward = actor(hostile.reader)
    for person in shown:
        assert steward in accessed(client, inspector, person).get("review.read", set()), person


def test_review_decision_names_both_sides(
    client: TestClient, hostile: Hostile, inspector: str, engine: Engine
) -> None:
    item = decided_pair(client, hostile)
    candidate = item["candidate"]["person_id"]
    listing = client.get(
        "/api/v1/review", params={"status": "non_match"}, headers=bearer(hostile.reader)
    )
    split_off = listing.json()["items"][0]["record"]["person_id"]
    assert split_off != candidate
    steward = actor(hostile.reader)
    for person in (candidate, split_off):
        assert steward in accessed(client, inspector, person).get("review.decision", set())


def test_a_feed_reading_its_batch_answer_is_in_who_accessed(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    persons = separate_persons(client, hostile, "read-back", 3)
    answer = client.get("/api/v1/programmes/SEL85/batches/read-back", headers=bearer(hostile.feed))
    assert answer.status_code == 200
    assert sorted(r["person_id"] for r in answer.json()["results"]) == persons
    feed = actor(hostile.feed)
    for person in persons:
        assert feed in accessed(client, inspector, person).get("feed.batch.read", set()), person


def test_the_links_export_names_every_person_it_carried(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    persons = separate_persons(client, hostile, "linked", 4)
    export = client.get("/api/v1/links/export", headers=bearer(hostile.reader))
    assert export.status_code == 200
    carried = {row["person_id"] for row in csv.DictReader(io.StringIO(export.text))}
    assert carried == set(persons)
    steward = actor(hostile.reader)
    for person in persons:
        assert steward in accessed(client, inspector, person).get("links.export", set()), person
    # the auditor's own listing by person finds the export too
    listed = client.get(
        "/api/v1/audit/events",
        params={"person_id": persons[0], "action": "links.export"},
        headers=bearer(inspector),
    ).json()["events"]
    assert [e["action"] for e in listed] == ["links.export"]


def test_an_auditor_listing_the_trail_is_in_who_accessed(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    persons = separate_persons(client, hostile, "listed", 2)
    listing = client.get(
        "/api/v1/audit/events", params={"action": "feed.batch"}, headers=bearer(hostile.reader)
    )
    assert listing.status_code == 200
    shown = {p for event in listing.json()["events"] for p in event["person_ids"]}
    assert shown == set(persons)
    auditor = actor(hostile.reader)
    for person in persons:
        assert auditor in accessed(client, inspector, person).get("audit.read", set()), person


def test_an_auditor_exporting_the_trail_as_csv_is_in_who_accessed(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    persons = separate_persons(client, hostile, "exported", 2)
    exported = client.get(
        "/api/v1/audit/events",
        params={"action": "feed.batch"},
        headers={**bearer(hostile.reader), "Accept": "text/csv"},
    )
    assert exported.status_code == 200
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert set(row["person_ids"].split()) == set(persons)
    auditor = actor(hostile.reader)
    for person in persons:
        assert auditor in accessed(client, inspector, person).get("audit.read", set()), person


def test_an_auditor_asking_who_accessed_a_person_is_in_who_accessed(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    (person,) = separate_persons(client, hostile, "asked", 1)
    first = client.get(f"/api/v1/audit/persons/{person}/accesses", headers=bearer(hostile.reader))
    assert first.status_code == 200 and first.json()["person_id"] == person
    auditor = actor(hostile.reader)
    assert auditor in accessed(client, inspector, person).get("audit.read", set())


def test_a_large_trail_listing_names_its_persons_through_a_manifest(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    persons = separate_persons(client, hostile, "large", 1_001)
    listing = client.get(
        "/api/v1/audit/events", params={"action": "feed.batch"}, headers=bearer(hostile.reader)
    )
    assert {p for e in listing.json()["events"] for p in e["person_ids"]} == set(persons)
    auditor = actor(hostile.reader)
    for person in (persons[0], persons[500], persons[-1]):
        assert auditor in accessed(client, inspector, person).get("audit.read", set()), person


def test_a_person_history_names_the_persons_it_shows(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    survivor, absorbed = separate_persons(client, hostile, "merged", 2)
    merged = client.post(
        f"/api/v1/persons/{survivor}/merge",
        json={"other": absorbed, "reason": "same person"},
        headers=bearer(hostile.reader),
    )
    assert merged.status_code == 200, merged.text
    history = client.get(f"/api/v1/persons/{survivor}/history", headers=bearer(hostile.reader))
    shown = {
        p for e in history.json()["events"] for p in (e["person_id"], e["other_person_id"]) if p
    }
    assert shown == {survivor, absorbed}
    steward = actor(hostile.reader)
    for person in shown:
        assert steward in accessed(client, inspector, person).get("person.history", set()), person


def _warned(client: TestClient, hostile: Hostile) -> str:
    """A record accepted with a warning (its national ID is no date): its person."""
    answer = push(client, hostile.feed, "SEL85", "w1", [record("W", national_id="9999999999")])
    (result,) = answer.json()["results"]
    assert result["warnings"] and result["person_id"]
    return str(result["person_id"])


def test_a_quality_report_names_the_persons_behind_its_source_ids(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    person = _warned(client, hostile)
    report = client.get("/api/v1/programmes/SEL85/quality", headers=bearer(hostile.feed)).json()
    assert [i["source_id"] for i in report["errors"]["other"]["items"]] == ["W"]
    feed = actor(hostile.feed)
    assert feed in accessed(client, inspector, person).get("programme.quality", set())


def test_the_dashboard_quality_csv_names_the_persons_behind_its_source_ids(
    client: TestClient, hostile: Hostile, inspector: str
) -> None:
    person = _warned(client, hostile)
    exported = client.get(
        "/dashboard/quality",
        params={"programme": "SEL85", "format": "csv"},
        headers=bearer(hostile.reader),
    )
    assert exported.status_code == 200 and ",W," in exported.text
    reader = actor(hostile.reader)
    assert reader in accessed(client, inspector, person).get("dashboard.view", set())


def test_a_subject_access_export_lists_the_bulk_exports_that_named_the_person(
    client: TestClient, hostile: Hostile
) -> None:
    (person,) = separate_persons(client, hostile, "subject", 1)
    assert client.get("/api/v1/links/export", headers=bearer(hostile.reader)).status_code == 200
    export = client.get(f"/api/v1/persons/{person}/subject-access", headers=bearer(hostile.reader))
    assert export.status_code == 200
    assert "links.export" in {a["action"] for a in export.json()["accessed_by"]}
