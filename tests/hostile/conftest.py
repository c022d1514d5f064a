"""A registry with one programme, its feed client, and a user holding every reading role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import client_token, make_client, make_programme, make_user, user_token


@dataclass
class Hostile:
    feed: str
    reader: str


@pytest.fixture
def hostile(engine: Engine, client: TestClient) -> Hostile:
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    make_user(engine, "reader", ["oversight", "auditor", "steward"], ["*"])
    return Hostile(
        feed=client_token(client, *make_client(engine, "SEL85")),
        reader=user_token(client, "reader"),
    )


def stored(engine: Engine) -> dict[str, int]:
    """Row counts of what a feed write leaves behind."""
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("feed_batch", "source_record", "person", "enrolment")
        }
