"""A small registry with amounts, periods and statuses, pushed through the feed API.

SEL85  M1  P1 1084 2024-01-01..2024-03-31  3000/month  active
SEL85  M2  P1 1084 2024-04-01..            3100/month  active  (follows M1: no flow)
SEL85  M3  P2 1085 2024-01-16..2024-02-14  3100/month  ended
SEL85  M4  P3 1085 2024-01-01..2024-12-31  36600/year  active
SEL85  M5  P4 1084 2024-02-10..2024-02-10  5000/payment ended
SEL85  M6  P2 1084 2024-01-01..            1000/month  suspended (not paid, no flow)
SEL85  M7  P3 1085 2023-06-01..2023-12-31  999, no period (left out; M4 follows it)
SEL104 B1  P2 1085 2024-03-01..2024-05-31  1000/month  ended
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import bearer, record
from tests.overview.conftest import P1, P2, P3, P4, latest_recorded, push


def grant(
    source_id: str,
    who: dict[str, str],
    region: str,
    start: str,
    end: str | None,
    amount: float | None,
    period: str | None,
    *,
    status: str = "active",
    benefit: str = "1.12.0.1",
    municipality: str = "101",
) -> dict[str, Any]:
    """A feed record for one paid episode."""
    return record(
        source_id,
        national_id=who["national_id"],
        birth_date=who["born"],
        sex=who["sex"],
        region=region,
        municipality=municipality,
        enrolment={
            "benefit_code": benefit,
            "target_group": "1.1.1" if benefit == "1.1" else "1.2.2",
            "status": status,
            "start_date": start,
            "end_date": end,
            "amount": amount,
            "amount_period": period,
        },
    )


@dataclass
class Money:
    """The registry's tokens and the system time before M2 was sent."""

    setup: Setup
    before_m2: Any


@pytest.fixture
def money(client: TestClient, setup: Setup, engine: Engine) -> Money:  # noqa: F811
    sel85 = [
        grant("M1", P1, "1084", "2024-01-01", "2024-03-31", 3000, "month"),
        grant("M3", P2, "1085", "2024-01-16", "2024-02-14", 3100, "month", status="ended"),
        grant("M4", P3, "1085", "2024-01-01", "2024-12-31", 36600, "year", municipality="102"),
        grant("M5", P4, "1084", "2024-02-10", "2024-02-10", 5000, "payment", status="ended"),
        grant("M6", P2, "1084", "2024-01-01", None, 1000, "month", status="suspended"),
        grant("M7", P3, "1085", "2023-06-01", "2023-12-31", 999, None, status="ended"),
    ]
    push(client, setup.sel85, "SEL85", "m1", sel85)
    before = latest_recorded(engine)
    push(
        client,
        setup.sel85,
        "SEL85",
        "m2",
        [grant("M2", P1, "1084", "2024-04-01", None, 3100, "month")],
    )
    b1 = grant(
        "B1", P2, "1085", "2024-03-01", "2024-05-31", 1000, "month", status="ended", benefit="1.1"
    )
    push(client, setup.sel104, "SEL104", "n1", [b1])
    return Money(setup=setup, before_m2=before)


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    """GET an overview answer as JSON; insist on 200."""
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()
