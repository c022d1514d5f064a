"""A registry with review items to work: two in region 1084, one in 1085, and their stewards.

Each item is a look-alike record without a national ID (from region 1081), scored by the
linkage engine and linked provisionally to a person of 1084 (or 1085) pending review. The
first 1084 item has waited three days, the second one day, the 1085 item not at all. The
first item's person holds one more record (A-0, an ended enrolment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, make_user, push, record, user_token

LOOKALIKE = {
    "national_id": None,
    "given_name": "Birte",
    "mother_name": None,
    "municipality": "101",
    "region": "1081",
}


@dataclass
class Workbench:
    setup: Setup
    steward_1085: str
    #: review item ids: two in 1084 (oldest first), one in 1085
    near: list[int]
    far: int
    #: the persons of the first 1084 item: the record's provisional holder and the candidate
    person: str


def queue_ids(client: TestClient, token: str, **params: Any) -> list[int]:
    answer = client.get("/api/v1/review", params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return [int(item["id"]) for item in answer.json()["items"]]


def _pair(
    client: TestClient, feed: str, name: str, national_id: str, **person: str
) -> tuple[str, str]:
    """A person (with a national ID) and a look-alike record linked to it pending review."""
    held = push(client, feed, "SEL85", f"{name}1", [record(name, national_id, **person)])
    lookalike = record(f"{name}-2", **{**person, **LOOKALIKE})
    queued = push(client, feed, "SEL85", f"{name}2", [lookalike]).json()["results"][0]
    assert queued["status"] == "review", queued
    return held.json()["results"][0]["person_id"], queued["person_id"]


@pytest.fixture
def workbench(client: TestClient, setup: Setup, engine: Engine) -> Workbench:
    feed = setup.sel85
    person, _ = _pair(client, feed, "A", "0705404916")
    earlier = record("A-0", "0705404916", municipality="159", enrolment={"status": "ended"})
    earlier["enrolment"]["end_date"] = "2023-06-30"
    older = push(client, feed, "SEL85", "A0", [earlier]).json()["results"][0]
    assert older["person_id"] == person, older  # the person's other record (by national ID)
    _pair(client, feed, "C", "0101404915", family_name="Jensen", birth_date="1940-01-01")
    far = {"family_name": "Holm", "birth_date": "1950-03-03", "region": "1085"}
    _pair(client, feed, "E", "0303504916", **far)
    make_user(engine, "steward_1085", ["steward"], ["1085"])
    with engine.begin() as conn:  # the first item has waited three days, the second one
        ids = [r[0] for r in conn.execute(text("SELECT id FROM match_candidate ORDER BY id"))]
        for item, days in zip(ids, (3, 1, 0), strict=True):
            conn.execute(
                text(
                    "UPDATE match_candidate SET created_at = now() - make_interval(days => :d) "
                    "WHERE id = :i"
                ),
                {"d": days, "i": item},
            )
    near = queue_ids(client, setup.steward_1084)
    steward_1085 = user_token(client, "steward_1085")
    (far_item,) = queue_ids(client, steward_1085)
    return Workbench(setup, steward_1085, near, far_item, person)
