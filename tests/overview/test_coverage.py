"""Coverage as of a date, current and as recorded, on the hand-built registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import bearer
from tests.overview.conftest import P2, Registry, episode, latest_recorded, push


def coverage(client: TestClient, token: str, **params: Any) -> Any:
    response = client.get("/api/v1/overview/coverage", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def by_programme(body: Any) -> dict[str, tuple[int, int]]:
    return {r["programme"]: (r["persons"], r["enrolments"]) for r in body["rows"]}


def test_shape_and_distinct_persons(client: TestClient, registry: Registry) -> None:
    body = coverage(client, registry.setup.oversight, as_of="2024-06-30", by="programme")
    assert body == {
        "as_of": "2024-06-30",
        "by": ["programme"],
        "rows": [
            {"programme": "SEL104", "persons": 2, "enrolments": 2, "suspended": 0, "pending": 0},
            {"programme": "SEL85", "persons": 3, "enrolments": 4, "suspended": 0, "pending": 0},
        ],
        "total": {"persons": 4, "enrolments": 6, "suspended": 0, "pending": 0},
        "suppressed": False,
    }


@pytest.mark.parametrize(
    ("as_of", "expected", "total"),
    [
        ("2022-12-31", {}, (0, 0)),
        ("2023-01-01", {"SEL85": (1, 1)}, (1, 1)),  # A3's start day
        ("2023-12-31", {"SEL85": (1, 1)}, (1, 1)),
        ("2024-01-01", {"SEL85": (2, 2), "SEL104": (1, 1)}, (3, 3)),  # A1, B4 start day
        ("2024-06-30", {"SEL85": (3, 4), "SEL104": (2, 2)}, (4, 6)),  # A1's last day
        ("2024-07-01", {"SEL85": (2, 3), "SEL104": (2, 2)}, (3, 5)),  # the day after
        ("2024-12-31", {"SEL85": (2, 3), "SEL104": (2, 2)}, (3, 5)),  # B4's last day
        ("2025-01-01", {"SEL85": (2, 3), "SEL104": (1, 1)}, (2, 4)),
    ],
)
def test_episode_boundaries(
    client: TestClient,
    registry: Registry,
    as_of: str,
    expected: dict[str, tuple[int, int]],
    total: tuple[int, int],
) -> None:
    body = coverage(client, registry.setup.oversight, as_of=as_of, by="programme")
    assert by_programme(body) == expected
    assert (body["total"]["persons"], body["total"]["enrolments"]) == total


def test_programme_by_region(client: TestClient, registry: Registry) -> None:
    body = coverage(client, registry.setup.oversight, as_of="2024-06-30", by="programme,region")
    assert body["by"] == ["programme", "region"]
    assert body["rows"] == [
        {
            "programme": "SEL104",
            "region": "1085",
            "persons": 2,
            "enrolments": 2,
            "suspended": 0,
            "pending": 0,
        },
        {
            "programme": "SEL85",
            "region": "1084",
            "persons": 2,
            "enrolments": 3,
            "suspended": 0,
            "pending": 0,
        },
        {
            "programme": "SEL85",
            "region": "1085",
            "persons": 1,
            "enrolments": 1,
            "suspended": 0,
            "pending": 0,
        },
    ]
    assert body["total"] == {"persons": 4, "enrolments": 6, "suspended": 0, "pending": 0}


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("sex", {("F",): (2, 2), ("M",): (2, 4)}),
        ("age_band", {("0-17",): (1, 1), ("30-49",): (2, 4), ("80+",): (1, 1)}),
        ("benefit_code", {("1.1",): (2, 2), ("1.12.0.1",): (2, 2), ("1.12.0.2",): (2, 2)}),
        (
            "region,sex",
            {
                ("1084", "F"): (1, 1),
                ("1084", "M"): (1, 2),
                ("1085", "F"): (1, 1),
                ("1085", "M"): (2, 2),
            },
        ),
    ],
)
def test_other_dimensions(
    client: TestClient, registry: Registry, by: str, expected: dict[tuple[str, ...], Any]
) -> None:
    body = coverage(client, registry.setup.oversight, as_of="2024-06-30", by=by)
    dims = by.split(",")
    got = {tuple(r[d] for d in dims): (r["persons"], r["enrolments"]) for r in body["rows"]}
    assert got == expected


def test_age_band_is_taken_on_the_as_of_date(client: TestClient, registry: Registry) -> None:
    young = episode(
        "A5",
        benefit="1.12.0.2",
        start="2024-01-01",
        end=None,
        region="1084",
        national_id="3006064567",
        born="2006-06-30",
        sex="F",
    )
    push(client, registry.setup.sel85, "SEL85", "b5", [young])
    token = registry.setup.oversight
    eve = coverage(client, token, as_of="2024-06-29", by="age_band")
    birthday = coverage(client, token, as_of="2024-06-30", by="age_band")
    assert {r["age_band"]: r["persons"] for r in eve["rows"]} == {
        "0-17": 2,
        "30-49": 2,
        "80+": 1,
    }
    assert {r["age_band"]: r["persons"] for r in birthday["rows"]} == {
        "0-17": 1,
        "18-29": 1,
        "30-49": 2,
        "80+": 1,
    }


def test_correction_as_recorded_keeps_the_old_answer(
    client: TestClient, registry: Registry
) -> None:
    token = registry.setup.oversight
    now = coverage(client, token, as_of="2024-07-01", by="programme")
    assert by_programme(now)["SEL85"] == (2, 3)
    then = coverage(
        client,
        token,
        as_of="2024-07-01",
        by="programme",
        recorded_at=registry.before_correction.isoformat(),
    )
    assert by_programme(then)["SEL85"] == (3, 4)
    assert then["total"] == {"persons": 4, "enrolments": 6, "suspended": 0, "pending": 0}


def test_as_recorded_before_anything_was_received(client: TestClient, registry: Registry) -> None:
    body = coverage(
        client,
        registry.setup.oversight,
        as_of="2024-06-30",
        by="programme",
        recorded_at="2000-01-01T00:00:00+00:00",
    )
    assert body["rows"] == [] and body["total"] == {
        "persons": 0,
        "enrolments": 0,
        "suspended": 0,
        "pending": 0,
    }


def test_retraction_removes_the_person_now_but_not_as_recorded_before(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    token = registry.setup.oversight
    before = latest_recorded(engine)
    push(client, registry.setup.sel85, "SEL85", "b3", [{"source_id": "A3", "retracted": True}])
    after = latest_recorded(engine)
    assert after > before

    now = coverage(client, token, as_of="2024-06-30", by="programme,region")
    assert ("SEL85", "1085") not in {(r["programme"], r["region"]) for r in now["rows"]}
    assert by_programme(coverage(client, token, as_of="2024-06-30", by="programme"))["SEL85"] == (
        2,
        3,
    )

    earlier = coverage(
        client, token, as_of="2024-06-30", by="programme", recorded_at=before.isoformat()
    )
    assert by_programme(earlier)["SEL85"] == (3, 4)
    # The system-time condition alone drops the retracted episode once it is recorded.
    later = coverage(
        client, token, as_of="2024-06-30", by="programme", recorded_at=after.isoformat()
    )
    assert by_programme(later)["SEL85"] == (2, 3)


def test_merged_duplicate_counts_once(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    twin = episode(
        "B2-dup",
        benefit="1.1",
        start="2024-02-01",
        end=None,
        region="1085",
        **{**P2, "national_id": None},
    )
    # Looks different enough that linkage keeps it apart; a steward then merges it.
    twin.update(given_name="Mogens", family_name="Hald", birth_date="1980-03-15", mother_name=None)
    answer = push(client, registry.setup.sel104, "SEL104", "c2", [twin])
    token = registry.setup.oversight
    assert by_programme(coverage(client, token, as_of="2024-06-30", by="programme"))["SEL104"] == (
        3,
        3,
    )
    with engine.begin() as conn:
        survivor = conn.execute(
            text("SELECT person_id FROM source_record WHERE source_id = 'B2' ")
        ).scalar_one()
        conn.execute(
            text("UPDATE person SET status = 'merged', merged_into = :s WHERE id = :d"),
            {"s": survivor, "d": answer["results"][0]["person_id"]},
        )
    body = coverage(client, token, as_of="2024-06-30", by="programme")
    assert by_programme(body)["SEL104"] == (2, 3)
    assert body["total"] == {"persons": 4, "enrolments": 7, "suspended": 0, "pending": 0}


def test_only_oversight_and_analyst(client: TestClient, registry: Registry) -> None:
    for token in (registry.setup.admin, registry.setup.sel85, registry.setup.steward_1084):
        for path in ("coverage", "overlaps"):
            response = client.get(f"/api/v1/overview/{path}", headers=bearer(token))
            assert response.status_code == 403, response.text
    assert client.get("/api/v1/overview/coverage").status_code == 401


def test_unknown_dimension_is_422_naming_by(client: TestClient, registry: Registry) -> None:
    response = client.get(
        "/api/v1/overview/coverage",
        params={"by": "programme,colour"},
        headers=bearer(registry.setup.oversight),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "by"
    assert "colour" in body["detail"] and "`by`" in body["detail"]


def test_bad_dates_are_422(client: TestClient, registry: Registry) -> None:
    for params in ({"as_of": "2024-13-01"}, {"recorded_at": "yesterday"}):
        response = client.get(
            "/api/v1/overview/coverage", params=params, headers=bearer(registry.setup.oversight)
        )
        assert response.status_code == 422


def test_default_as_of_is_today(client: TestClient, registry: Registry) -> None:
    body = coverage(client, registry.setup.oversight)
    assert body["as_of"] == datetime.now().date().isoformat()
    assert body["by"] == ["programme"]
