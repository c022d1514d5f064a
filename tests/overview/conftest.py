"""A small hand-built registry for the overview, pushed through the feed API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import bearer, record


def push(client: TestClient, token: str, programme: str, batch: str, records: list[Any]) -> Any:
    """Push one batch and insist every record was accepted."""
    response = client.post(
        f"/api/v1/programmes/{programme}/batches",
        json={"batch_id": batch, "records": records},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0, body
    return body


def latest_recorded(engine: Engine) -> datetime:
    """The system time of the last change written to enrolment."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT greatest(max(recorded_at), max(superseded_at)) FROM enrolment")
        ).scalar_one()


def episode(
    source_id: str,
    national_id: str,
    benefit: str,
    start: str,
    end: str | None,
    *,
    born: str,
    sex: str,
    region: str,
) -> dict[str, Any]:
    """A feed record for one person's benefit episode."""
    group = "1.1.1" if benefit == "1.1" else "1.2.2"
    return record(
        source_id,
        national_id=national_id,
        birth_date=born,
        sex=sex,
        region=region,
        enrolment={
            "benefit_code": benefit,
            "target_group": group,
            "start_date": start,
            "end_date": end,
        },
    )


P1 = {"national_id": "0101901234", "born": "1990-01-01", "sex": "F"}
P2 = {"national_id": "0202802345", "born": "1980-02-02", "sex": "M"}
P3 = {"national_id": "0303403456", "born": "1940-03-03", "sex": "F"}
P4 = {"national_id": "0404104567", "born": "2010-04-04", "sex": "M"}


@dataclass
class Registry:
    """The hand-built registry: tokens, and the system time before the correction."""

    setup: Setup
    before_correction: datetime


@pytest.fixture
def registry(client: TestClient, setup: Setup, engine: Engine) -> Registry:  # noqa: F811
    """Four persons, six episodes; P1's end date is corrected in a later batch.

    SEL85  A1  P1 1.12.0.1 region 1084 2024-01-01..(open, corrected to 2024-06-30)
    SEL85  A2  P2 1.12.0.2 region 1084 2024-03-01..
    SEL85  A2b P2 1.12.0.1 region 1084 2024-05-01..
    SEL85  A3  P3 1.12.0.2 region 1085 2023-01-01..
    SEL104 B2  P2 1.1      region 1085 2024-02-01..
    SEL104 B4  P4 1.1      region 1085 2024-01-01..2024-12-31
    """
    push(
        client,
        setup.sel85,
        "SEL85",
        "b1",
        [
            episode("A1", benefit="1.12.0.1", start="2024-01-01", end=None, region="1084", **P1),
            episode("A2", benefit="1.12.0.2", start="2024-03-01", end=None, region="1084", **P2),
            episode("A2b", benefit="1.12.0.1", start="2024-05-01", end=None, region="1084", **P2),
            episode("A3", benefit="1.12.0.2", start="2023-01-01", end=None, region="1085", **P3),
        ],
    )
    push(
        client,
        setup.sel104,
        "SEL104",
        "c1",
        [
            episode("B2", benefit="1.1", start="2024-02-01", end=None, region="1085", **P2),
            episode("B4", benefit="1.1", start="2024-01-01", end="2024-12-31", region="1085", **P4),
        ],
    )
    before = latest_recorded(engine)
    correction = episode(
        "A1", benefit="1.12.0.1", start="2024-01-01", end="2024-06-30", region="1084", **P1
    )
    push(client, setup.sel85, "SEL85", "b2", [correction])
    return Registry(setup=setup, before_correction=before)
