"""A steward reaching across regions through the review queue: absent, and 'match' never joins IDs.

Person A (region 1084, national ID 0705404916). Record B arrives in region 1081 with another
national ID and A's name and birth date: it becomes its own person N, queued against A as a
national_id_conflict. The item shows two persons, N (only in 1081) and A (only in 1084).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import (
    bearer,
    client_token,
    make_client,
    make_programme,
    make_user,
    push,
    record,
    user_token,
)

OTHER_ID = "0705404917"


@dataclass
class World:
    feed: str
    steward_1084: str
    steward_1081: str
    steward_all: str


@pytest.fixture
def world(engine: Engine, client: TestClient) -> World:
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    feed = client_token(client, *make_client(engine, "SEL85"))
    for name, regions in (("s1084", ["1084"]), ("s1081", ["1081"]), ("sall", ["*"])):
        make_user(engine, name, ["steward"], regions)
    return World(
        feed=feed,
        steward_1084=user_token(client, "s1084"),
        steward_1081=user_token(client, "s1081"),
        steward_all=user_token(client, "sall"),
    )


def conflict(client: TestClient, world: World) -> tuple[str, str]:
    """Persons A and N, with one pending item: N's record B against A."""
    a = push(client, world.feed, "SEL85", "b1", [record("A")]).json()["results"][0]
    b = push(
        client,
        world.feed,
        "SEL85",
        "b2",
        [record("B", national_id=OTHER_ID, region="1081", municipality="101")],
    ).json()["results"][0]
    assert b["person_id"] != a["person_id"], b
    return a["person_id"], b["person_id"]


def items(client: TestClient, token: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/review", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def decide(client: TestClient, token: str, item: int, decision: str = "match") -> Any:
    return client.post(
        f"/api/v1/review/{item}/decision",
        json={"decision": decision, "note": "looks the same"},
        headers=bearer(token),
    )


def holder(engine: Engine, source_id: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT person_id::text FROM source_record WHERE source_id = :s"),
                {"s": source_id},
            ).scalar_one()
        )


def pending_on_dashboard(client: TestClient, token: str) -> int:
    page = client.get("/dashboard/review", headers=bearer(token))
    assert page.status_code == 200, page.text
    found = re.search(r'id="pending">(\d+)<', page.text)
    assert found is not None, page.text
    return int(found.group(1))


def test_an_item_showing_a_person_outside_the_region_is_absent(
    client: TestClient, world: World, engine: Engine
) -> None:
    a, n = conflict(client, world)
    (item,) = items(client, world.steward_all)
    assert item["reason"] == "national_id_conflict"
    assert (item["record"]["person_id"], item["candidate"]["person_id"]) == (n, a)
    # the candidate side is A's region, the record side N's: neither steward sees both persons
    assert items(client, world.steward_1084) == []
    assert items(client, world.steward_1081) == []
    assert pending_on_dashboard(client, world.steward_1084) == 0
    assert pending_on_dashboard(client, world.steward_1081) == 0
    assert pending_on_dashboard(client, world.steward_all) == 1


def test_deciding_an_item_outside_the_region_is_404_and_moves_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    a, n = conflict(client, world)
    (item,) = items(client, world.steward_all)
    for token in (world.steward_1084, world.steward_1081):
        for decision in ("match", "non_match"):
            answer = decide(client, token, item["id"], decision)
            assert answer.status_code == 404, answer.text
            assert answer.json()["detail"] == decide(client, token, 10**9).json()["detail"]
    assert holder(engine, "B") == n
    # A stays outside the 1084 steward's... and N outside the 1081 steward's reach
    assert client.get(f"/api/v1/persons/{n}", headers=bearer(world.steward_1084)).status_code == 404
    assert client.get(f"/api/v1/persons/{a}", headers=bearer(world.steward_1081)).status_code == 404


def test_match_joining_two_national_ids_is_refused_like_merge(
    client: TestClient, world: World, engine: Engine
) -> None:
    a, n = conflict(client, world)
    (item,) = items(client, world.steward_all)
    merge = client.post(
        f"/api/v1/persons/{a}/merge",
        json={"other": n, "reason": "same person?"},
        headers=bearer(world.steward_all),
    )
    assert merge.status_code == 409, merge.text
    answer = decide(client, world.steward_all, item["id"], "match")
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == merge.json()["error"]
    assert holder(engine, "B") == n
    with engine.connect() as conn:
        holders = conn.execute(
            text("SELECT count(DISTINCT person_id) FROM person_identifier")
        ).scalar_one()
        status = conn.execute(text("SELECT status FROM match_candidate")).scalar_one()
    assert holders == 2 and status == "pending"
    # a non-match is still possible, and settles it
    assert decide(client, world.steward_all, item["id"], "non_match").status_code == 200
