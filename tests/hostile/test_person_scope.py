"""One scope rule for every person-level route: where GET /persons/{id} is 404, so is the rest.

Person P holds record P1 in region 1085. Record B (region 1084) is linked to P provisionally,
which brings P into the 1084 steward's scope; the steward's non-match moves B to a new person
N, and P leaves that scope again. Its history must leave with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

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

UNCERTAIN = {"national_id": None, "given_name": "Birte", "mother_name": None, "municipality": "101"}


@dataclass
class World:
    feed: str
    steward: str  # region 1084
    oversight: str  # region 1084
    everywhere: str  # steward, all regions


@pytest.fixture
def world(engine: Engine, client: TestClient) -> World:
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    feed = client_token(client, *make_client(engine, "SEL85"))
    make_user(engine, "s1084", ["steward"], ["1084"])
    make_user(engine, "o1084", ["oversight"], ["1084"])
    make_user(engine, "sall", ["steward"], ["*"])
    return World(
        feed=feed,
        steward=user_token(client, "s1084"),
        oversight=user_token(client, "o1084"),
        everywhere=user_token(client, "sall"),
    )


def moved_out(client: TestClient, world: World) -> tuple[str, str]:
    """P (left the 1084 steward's scope after a non-match) and N (the record's new person)."""
    p = push(client, world.feed, "SEL85", "b1", [record("P1", region="1085")]).json()
    p_id = p["results"][0]["person_id"]
    b = push(client, world.feed, "SEL85", "b2", [record("B", region="1084", **UNCERTAIN)]).json()
    assert b["results"][0]["status"] == "review" and b["results"][0]["person_id"] == p_id, b
    steward = bearer(world.steward)
    assert client.get(f"/api/v1/persons/{p_id}", headers=steward).status_code == 200
    (item,) = client.get("/api/v1/review", headers=steward).json()["items"]
    decided = client.post(
        f"/api/v1/review/{item['id']}/decision",
        json={"decision": "non_match", "note": "different women"},
        headers=steward,
    )
    assert decided.status_code == 200, decided.text
    return p_id, decided.json()["person_id"]


Route = Callable[[TestClient, str, str, str], Any]


def _get(path: str) -> Route:
    return lambda client, token, person, _: client.get(
        f"/api/v1/persons/{person}{path}", headers=bearer(token)
    )


def _post(path: str, body: Callable[[str], dict[str, Any]]) -> Route:
    return lambda client, token, person, other: client.post(
        f"/api/v1/persons/{person}{path}", json=body(other), headers=bearer(token)
    )


#: Every person-level route of a steward, with a body that is otherwise valid.
STEWARD_ROUTES: dict[str, Route] = {
    "read": _get(""),
    "history": _get("/history"),
    "subject-access": _get("/subject-access"),
    "rectify": _post("/rectify", lambda _: {"fields": {"mother_name": "X"}, "reason": "x"}),
    "merge": _post("/merge", lambda other: {"other": other, "reason": "x"}),
    "split": _post(
        "/split",
        lambda _: {"source_records": [{"programme": "SEL85", "source_id": "P1"}], "reason": "x"},
    ),
}


def test_history_is_404_where_the_person_is(client: TestClient, world: World) -> None:
    p, _ = moved_out(client, world)
    for token in (world.steward, world.oversight):
        assert client.get(f"/api/v1/persons/{p}", headers=bearer(token)).status_code == 404
        history = client.get(f"/api/v1/persons/{p}/history", headers=bearer(token))
        assert history.status_code == 404, history.text


def test_every_person_level_route_is_404_outside_the_scope(
    client: TestClient, world: World
) -> None:
    p, n = moved_out(client, world)
    nowhere = "01900000-0000-7000-8000-000000000000"
    missing = {
        name: route(client, world.steward, nowhere, n) for name, route in STEWARD_ROUTES.items()
    }
    for name, route in STEWARD_ROUTES.items():
        answer = route(client, world.steward, p, n)
        assert answer.status_code == 404, (name, answer.text)
        assert answer.json() == missing[name].json(), name


def test_every_person_level_route_serves_a_person_in_scope(
    client: TestClient, world: World
) -> None:
    """The same routes answer for the person who is in scope (all regions: P too)."""
    p, n = moved_out(client, world)
    for name in ("read", "history", "subject-access", "rectify"):
        answer = STEWARD_ROUTES[name](client, world.steward, n, p)
        assert answer.status_code == 200, (name, answer.text)
    for name in ("read", "history", "subject-access", "rectify"):
        answer = STEWARD_ROUTES[name](client, world.everywhere, p, n)
        assert answer.status_code == 200, (name, answer.text)


def test_a_merged_person_reads_alike_on_every_route(client: TestClient, world: World) -> None:
    """A merged person follows its survivor's scope, for the person and its history alike."""
    p, n = moved_out(client, world)
    other = record("C", national_id=None, given_name="Mogens", birth_date="1961-01-01")
    c = push(client, world.feed, "SEL85", "b3", [other]).json()["results"][0]["person_id"]
    merged = client.post(
        f"/api/v1/persons/{n}/merge",
        json={"other": c, "reason": "same man"},
        headers=bearer(world.steward),
    )
    assert merged.status_code == 200, merged.text
    for token in (world.steward, world.oversight, world.everywhere):
        read = client.get(f"/api/v1/persons/{c}", headers=bearer(token))
        history = client.get(f"/api/v1/persons/{c}/history", headers=bearer(token))
        assert read.status_code == history.status_code == 200, (read.text, history.text)
        assert read.json()["merged_into"] == history.json()["merged_into"] == n
    # a merged person takes no further identity change
    again = STEWARD_ROUTES["merge"](client, world.steward, c, n)
    assert again.status_code == 404, again.text
    # and P, outside the region, stays outside through merges elsewhere
    assert (
        client.get(f"/api/v1/persons/{p}/history", headers=bearer(world.oversight)).status_code
        == 404
    )
