"""An admin, an analyst, an oversight user; helpers to load lists and read them back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.factories import bearer, make_user, user_token


@dataclass
class People:
    admin: str
    analyst: str
    oversight: str


@pytest.fixture(name="people")
def people_fixture(engine: Engine, client: TestClient) -> People:
    make_user(engine, "admin", ["admin"])
    make_user(engine, "analyst", ["analyst"])
    make_user(engine, "oversight", ["oversight"], ["*"])
    return People(
        admin=user_token(client, "admin"),
        analyst=user_token(client, "analyst"),
        oversight=user_token(client, "oversight"),
    )


def load(
    client: TestClient,
    token: str,
    name: str,
    kind: str,
    owner: str | None,
    entries: list[dict[str, Any]],
) -> Any:
    """POST a list as JSON; the response."""
    return client.post(
        "/api/v1/codelists",
        json={"name": name, "kind": kind, "owner": owner, "entries": entries},
        headers=bearer(token),
    )


#: An NGO's own benefit codes and its status words, mapped to the registry's.
NGO_BENEFITS = [
    {"code": "X.FOOD", "description": "Food parcel", "valid_from": "2020-01-01"},
    {"code": "X.SHELTER", "description": "Night shelter", "valid_from": "2020-01-01"},
]
NGO_STATUSES = [
    {"code": "exited", "description": "left the programme", "attributes": {"status": "ended"}},
    {"code": "enrolled", "description": "in the programme", "attributes": {"status": "active"}},
    {"code": "on_hold", "description": "paused", "attributes": {"status": "suspended"}},
]


def load_ngo_lists(client: TestClient, admin: str, owner: str = "NGO1") -> None:
    """The NGO's benefit list and status map, owned by it."""
    for name, kind, entries in (
        (f"{owner.lower()}_benefits", "benefit", NGO_BENEFITS),
        (f"{owner.lower()}_statuses", "status_map", NGO_STATUSES),
    ):
        answer = load(client, admin, name, kind, owner, entries)
        assert answer.status_code == 201, answer.text
