"""The programme × programme overlap matrix and persons by number of programmes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import bearer
from tests.overview.conftest import Registry


def test_overlap_matrix_and_by_count(client: TestClient, registry: Registry) -> None:
    response = client.get(
        "/api/v1/overview/overlaps",
        params={"as_of": "2024-06-30"},
        headers=bearer(registry.setup.oversight),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "as_of": "2024-06-30",
        "programmes": ["SEL104", "SEL82", "SEL85"],
        "matrix": {
            "SEL104": {"SEL104": 2, "SEL82": 0, "SEL85": 1},
            "SEL82": {"SEL104": 0, "SEL82": 0, "SEL85": 0},
            "SEL85": {"SEL104": 1, "SEL82": 0, "SEL85": 3},
        },
        "by_count": {"1": 3, "2": 1},
        "suppressed": False,
    }


def test_overlaps_follow_the_date_and_system_time(client: TestClient, registry: Registry) -> None:
    token = registry.setup.oversight
    early = client.get(
        "/api/v1/overview/overlaps", params={"as_of": "2024-01-01"}, headers=bearer(token)
    ).json()
    assert early["matrix"]["SEL85"]["SEL104"] == 0
    assert early["by_count"] == {"1": 3}
    # P2's overlap starts with A2 on 2024-03-01 (B2 started on 2024-02-01).
    march = client.get(
        "/api/v1/overview/overlaps", params={"as_of": "2024-03-01"}, headers=bearer(token)
    ).json()
    assert march["matrix"]["SEL104"]["SEL85"] == 1
    assert march["by_count"] == {"1": 3, "2": 1}
    july = client.get(
        "/api/v1/overview/overlaps",
        params={"as_of": "2024-07-01", "recorded_at": registry.before_correction.isoformat()},
        headers=bearer(token),
    ).json()
    assert july["matrix"]["SEL85"]["SEL85"] == 3  # A1 was still open-ended then
