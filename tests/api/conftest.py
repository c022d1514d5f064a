"""A registry with two programmes, a feed client each, and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.factories import client_token, make_client, make_programme, make_user, user_token


@dataclass
class Setup:
    sel85: str
    sel104: str
    admin: str
    oversight: str
    steward_1084: str
    analyst: str


@pytest.fixture
def setup(engine: Engine, client: TestClient) -> Setup:
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    make_programme(engine, "SEL104", ["1.1"])
    make_programme(engine, "SEL82", ["1.18.1", "1.18.2"])
    tokens = {}
    for programme in ("SEL85", "SEL104"):
        tokens[programme] = client_token(client, *make_client(engine, programme))
    make_user(engine, "admin", ["admin"])
    make_user(engine, "oversight", ["oversight"], ["*"])
    make_user(engine, "steward", ["steward"], ["1084"])
    make_user(engine, "analyst", ["analyst"])
    return Setup(
        sel85=tokens["SEL85"],
        sel104=tokens["SEL104"],
        admin=user_token(client, "admin"),
        oversight=user_token(client, "oversight"),
        steward_1084=user_token(client, "steward"),
        analyst=user_token(client, "analyst"),
    )
