"""What "receiving" means: suspended and pending episodes are counted beside, never inside.

On the hand-built registry (tests/overview/conftest.py) a later batch adds, on 2024-06-30:
P1 suspended in SEL104 (1084) while receiving SEL85; P2 suspended in SEL104 (1085) while
receiving SEL104 there; P5, a new person, pending in SEL85 (1085). Before issue 25 every one
of them counted as receiving.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.access.principal import Principal
from registry.core.db import transaction
from registry.overview import service
from registry.overview.summary import is_current, refresh_summary
from tests.factories import bearer
from tests.overview.conftest import P1, P2, Registry, episode, latest_recorded, push

OVERSIGHT = Principal("user:t", "t", frozenset({"oversight"}), frozenset({"*"}))
P5 = {"national_id": "0505805678", "born": "1980-05-05", "sex": "F"}
JUNE = "2024-06-30"


def with_status(record: dict[str, Any], status: str) -> dict[str, Any]:
    """The record with its enrolment's status set."""
    record["enrolment"]["status"] = status
    return record


@pytest.fixture
def beside(client: TestClient, registry: Registry) -> Registry:
    """The registry plus one suspended episode each for P1 and P2, and P5 pending."""
    push(
        client,
        registry.setup.sel104,
        "SEL104",
        "c-status",
        [
            with_status(
                episode("B1S", benefit="1.1", start="2024-01-01", end=None, region="1084", **P1),
                "suspended",
            ),
            with_status(
                episode("B2S", benefit="1.1", start="2024-01-01", end=None, region="1085", **P2),
                "suspended",
            ),
        ],
    )
    push(
        client,
        registry.setup.sel85,
        "SEL85",
        "b-status",
        [
            with_status(
                episode(
                    "A5", benefit="1.12.0.2", start="2024-06-01", end=None, region="1085", **P5
                ),
                "pending",
            )
        ],
    )
    return registry


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_coverage_counts_receiving_and_reports_suspended_and_pending_beside(
    client: TestClient, beside: Registry
) -> None:
    body = get(client, beside.setup.oversight, "coverage", as_of=JUNE, by="programme")
    assert body["rows"] == [
        {"programme": "SEL104", "persons": 2, "enrolments": 2, "suspended": 1, "pending": 0},
        {"programme": "SEL85", "persons": 3, "enrolments": 4, "suspended": 0, "pending": 1},
    ]
    # P1 receives SEL85, so is not suspended in all; P5 is pending and nothing else
    assert body["total"] == {"persons": 4, "enrolments": 6, "suspended": 0, "pending": 1}
    cells = get(client, beside.setup.oversight, "coverage", as_of=JUNE, by="programme,region")
    assert cells["rows"] == [
        {"programme": "SEL104", "region": "1084", "persons": 0, "enrolments": 0}
        | {"suspended": 1, "pending": 0},
        {"programme": "SEL104", "region": "1085", "persons": 2, "enrolments": 2}
        | {"suspended": 0, "pending": 0},  # P2 receives here: not suspended in the cell
        {"programme": "SEL85", "region": "1084", "persons": 2, "enrolments": 3}
        | {"suspended": 0, "pending": 0},
        {"programme": "SEL85", "region": "1085", "persons": 1, "enrolments": 1}
        | {"suspended": 0, "pending": 1},
    ]
    by_sex = get(client, beside.setup.oversight, "coverage", as_of=JUNE, by="sex")
    assert by_sex["total"] == body["total"]
    assert {r["sex"]: (r["persons"], r["pending"]) for r in by_sex["rows"]} == {
        "F": (2, 1),
        "M": (2, 0),
    }


def test_summary_path_and_episode_path_agree(
    client: TestClient, beside: Registry, engine: Engine
) -> None:
    def answers() -> list[Any]:
        with transaction(engine) as session:
            day = date.fromisoformat(JUNE)
            return [
                service.coverage(session, OVERSIGHT, day, by)
                for by in ("programme", "programme,region")
            ] + [service.overlaps(session, OVERSIGHT, day)]

    with transaction(engine) as session:
        assert is_current(session)
        spells = session.execute(text("SELECT count(*) FROM overview_spell")).scalar_one()
    from_summary = answers()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO overview_dirty (person_id) SELECT id FROM person"))
    assert answers() == from_summary
    with transaction(engine) as session:
        refresh_summary(session)
        # the summary holds receiving episodes only: P5 (pending only) has no segment
        assert session.execute(text("SELECT count(*) FROM overview_spell")).scalar_one() == spells
        assert not session.execute(
            text(
                "SELECT count(*) FROM overview_spell s JOIN person p ON p.id = s.person_id"
                " JOIN source_record r ON r.person_id = p.id WHERE r.source_id = 'A5'"
            )
        ).scalar_one()
        # its pending episode is in the beside segments, in its cell and every margin
        levels = session.execute(
            text(
                "SELECT array_agg(b.level ORDER BY b.level) FROM overview_beside b"
                " JOIN source_record r ON r.person_id = b.person_id WHERE r.source_id = 'A5'"
                " AND b.start_date <= DATE '2024-06-30'"
                " AND (b.end_date IS NULL OR b.end_date >= DATE '2024-06-30')"
            )
        ).scalar_one()
        assert levels == [0, 1, 2, 3]
    assert answers() == from_summary
    # and the API's as-recorded answer (always the episodes) is the same
    recorded = latest_recorded(engine).isoformat()
    for by in ("programme", "programme,region"):
        now = get(client, beside.setup.oversight, "coverage", as_of=JUNE, by=by)
        then = get(
            client, beside.setup.oversight, "coverage", as_of=JUNE, by=by, recorded_at=recorded
        )
        assert now["rows"] == then["rows"] and now["total"] == then["total"]


def test_overlaps_and_persons_in_programmes_count_receiving_only(
    client: TestClient, beside: Registry
) -> None:
    body = get(client, beside.setup.oversight, "overlaps", as_of=JUNE)
    assert body["matrix"]["SEL85"]["SEL104"] == 1  # P2 only; P1 is suspended in SEL104
    assert body["matrix"]["SEL104"]["SEL104"] == 2 and body["matrix"]["SEL85"]["SEL85"] == 3
    assert body["by_count"] == {"1": 3, "2": 1}
    persons = client.get(
        "/api/v1/overview/overlaps/persons",
        params={"as_of": JUNE},
        headers={**bearer(beside.setup.oversight), "X-Purpose": "control"},
    )
    assert persons.status_code == 200, persons.text
    listed = persons.json()["persons"]
    assert len(listed) == 1  # P2
    assert {g["source_id"] for g in listed[0]["enrolments"]} == {"A2", "A2b", "B2"}


def test_timeseries_counts_receiving_with_beside(client: TestClient, beside: Registry) -> None:
    body = get(
        client, beside.setup.oversight, "timeseries", **{"from": "2024-06-01", "to": "2024-06-30"}
    )
    rows = {r["programme"]: (r["persons"], r["suspended"], r["pending"]) for r in body["rows"]}
    assert rows["SEL104"] == (2, 1, 0)
    assert rows["SEL85"] == (3, 0, 1)


def test_duplicates_reconciliation_and_quality_count_receiving_only(
    client: TestClient, beside: Registry
) -> None:
    dup = get(client, beside.setup.oversight, "duplicates", as_of=JUNE)
    doubles = {c["programme"]: c["persons"] for c in dup["double_enrolments"]["counts"]}
    assert doubles.get("SEL104", 0) == 0  # P2's suspended B2S is no second enrolment
    rec = get(
        client, beside.setup.oversight, "reconciliation", left="SEL85", right="SEL104", as_of=JUNE
    )
    assert rec["summary"]["both"] == 1 and rec["summary"]["left"] == 3
    quality = client.get(
        "/api/v1/programmes/SEL104/quality",
        params={"from": "2024-04-01", "to": JUNE},
        headers=bearer(beside.setup.oversight),
    ).json()
    q2 = next(q for q in quality["quarters"] if q["quarter"] == "2024Q2")
    assert q2["recipients"] == {"1.1": 2}


def test_analyst_beside_counts_are_suppressed(client: TestClient, beside: Registry) -> None:
    body = get(client, beside.setup.analyst, "coverage", as_of=JUNE, by="programme")
    assert {r["programme"]: r["pending"] for r in body["rows"]} == {"SEL104": 0, "SEL85": None}
    assert {r["programme"]: r["suspended"] for r in body["rows"]} == {"SEL104": None, "SEL85": 0}
    # the sum over programmes (1) less the total (0) is small: the total is hidden too
    assert body["total"]["pending"] is None and body["total"]["suspended"] is None
    series = get(
        client, beside.setup.analyst, "timeseries", **{"from": "2024-06-01", "to": "2024-06-30"}
    )
    assert all(r["suspended"] in (0, None) and r["pending"] in (0, None) for r in series["rows"])


def test_target_group_and_municipality_are_dimensions(
    client: TestClient, registry: Registry
) -> None:
    token = registry.setup.oversight
    body = get(client, token, "coverage", as_of=JUNE, by="target_group")
    assert {r["target_group"]: (r["persons"], r["enrolments"]) for r in body["rows"]} == {
        "1.1.1": (2, 2),
        "1.2.2": (3, 4),
    }
    body = get(client, token, "coverage", as_of=JUNE, by="programme,municipality")
    assert {(r["programme"], r["municipality"]): r["persons"] for r in body["rows"]} == {
        ("SEL104", "157"): 2,
        ("SEL85", "157"): 3,
    }
    assert body["total"]["persons"] == 4
    csv = client.get(
        "/api/v1/overview/coverage",
        params={"as_of": JUNE, "by": "municipality,target_group"},
        headers={**bearer(token), "Accept": "text/csv"},
    ).text.splitlines()
    assert csv[0] == "section,municipality,target_group,persons,enrolments,suspended,pending"
    assert "row,157,1.2.2,3,4,0,0" in csv
    # analysts: small cells hidden, in these dimensions as in every other
    hidden = get(client, registry.setup.analyst, "coverage", as_of=JUNE, by="target_group")
    assert hidden["suppressed"] is True
    assert all(r["persons"] is None for r in hidden["rows"])
