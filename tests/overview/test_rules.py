"""Persons in several programmes, time series, duplicates, exclusivity, CSV (hand-built registry).

Active on 2024-06-30 (see conftest): SEL85 P1 (A1), P2 (A2, A2b), P3 (A3); SEL104 P2 (B2), P4 (B4).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import bearer, make_user, user_token
from tests.overview.conftest import Registry


def get(client: TestClient, token: str, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == status, response.text
    return response.json()


def person_of(engine: Engine, source_id: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT person_id FROM source_record WHERE source_id = :s"), {"s": source_id}
            ).scalar_one()
        )


def test_persons_in_two_programmes_for_oversight_only(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    body = get(client, registry.setup.oversight, "overlaps/persons", as_of="2024-06-30")
    p2 = person_of(engine, "A2")
    assert [p["person_id"] for p in body["persons"]] == [p2]
    assert body["persons"][0]["programmes"] == ["SEL104", "SEL85"]
    assert {e["source_id"] for e in body["persons"][0]["enrolments"]} == {"A2", "A2b", "B2"}
    # before A2 started (2024-03-01), P2 was in SEL104 only
    assert (
        get(client, registry.setup.oversight, "overlaps/persons", as_of="2024-02-29")["persons"]
        == []
    )
    one = get(
        client, registry.setup.oversight, "overlaps/persons", as_of="2024-06-30", min_programmes=1
    )
    assert len(one["persons"]) == 4
    for token in (registry.setup.analyst, registry.setup.steward_1084, registry.setup.admin):
        get(client, token, "overlaps/persons", status=403)
    with engine.connect() as conn:
        event = conn.execute(
            text(
                "SELECT person_ids FROM audit_event WHERE action = 'overview.persons' "
                "ORDER BY id LIMIT 1"
            )
        ).scalar_one()
    assert event == [p2]


def test_persons_list_keeps_to_the_callers_regions(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    make_user(engine, "oversight-1086", ["oversight"], ["1086"])
    make_user(engine, "oversight-1085", ["oversight"], ["1085"])
    far = user_token(client, "oversight-1086")
    near = user_token(client, "oversight-1085")
    assert get(client, far, "overlaps/persons", as_of="2024-06-30")["persons"] == []
    listed = get(client, near, "overlaps/persons", as_of="2024-06-30", min_programmes=1)
    # 1085 holds A3 (P3), B2 (P2) and B4 (P4); P1 is only in 1084
    assert {p["person_id"] for p in listed["persons"]} == {
        person_of(engine, s) for s in ("A3", "B2", "B4")
    }


def test_paging_through_persons(client: TestClient, registry: Registry) -> None:
    token = registry.setup.oversight
    first = get(client, token, "overlaps/persons", as_of="2024-06-30", min_programmes=1, limit=3)
    assert len(first["persons"]) == 3 and first["next_after"]
    rest = get(
        client,
        token,
        "overlaps/persons",
        as_of="2024-06-30",
        min_programmes=1,
        after=first["next_after"],
    )
    assert len(rest["persons"]) == 1 and rest["next_after"] is None


def series(body: Any, programme: str) -> dict[str, int | None]:
    return {r["period_start"]: r["persons"] for r in body["rows"] if r["programme"] == programme}


def test_monthly_timeseries_active_during_each_month(
    client: TestClient, registry: Registry
) -> None:
    body = get(
        client,
        registry.setup.oversight,
        "timeseries",
        **{"from": "2024-01-01", "to": "2024-07-31", "interval": "month"},
    )
    assert series(body, "SEL85") == {
        "2024-01-01": 2,
        "2024-02-01": 2,
        "2024-03-01": 3,
        "2024-04-01": 3,
        "2024-05-01": 3,
        "2024-06-01": 3,
        "2024-07-01": 2,
    }
    assert series(body, "SEL104") == {
        "2024-01-01": 1,
        "2024-02-01": 2,
        "2024-03-01": 2,
        "2024-04-01": 2,
        "2024-05-01": 2,
        "2024-06-01": 2,
        "2024-07-01": 2,
    }
    assert series(body, "SEL82") == dict.fromkeys(series(body, "SEL85"), 0)
    assert body["rows"][0]["period_end"] == "2024-01-31"


def test_timeseries_as_recorded_before_the_correction(
    client: TestClient, registry: Registry
) -> None:
    params = {"from": "2024-06-01", "to": "2024-07-31", "programme": "SEL85"}
    now = get(client, registry.setup.oversight, "timeseries", **params)
    then = get(
        client,
        registry.setup.oversight,
        "timeseries",
        **params,
        recorded_at=registry.before_correction.isoformat(),
    )
    assert series(now, "SEL85") == {"2024-06-01": 3, "2024-07-01": 2}
    assert series(then, "SEL85") == {"2024-06-01": 3, "2024-07-01": 3}
    assert {r["programme"] for r in now["rows"]} == {"SEL85"}


def test_timeseries_on_the_last_day_quarters_weeks_and_clipping(
    client: TestClient, registry: Registry
) -> None:
    token = registry.setup.oversight
    end = get(
        client,
        token,
        "timeseries",
        **{"from": "2024-06-01", "to": "2024-07-31", "programme": "SEL85", "basis": "end"},
    )
    # on 2024-06-30 P1 is still active (last day); on 2024-07-31 not
    assert series(end, "SEL85") == {"2024-06-01": 3, "2024-07-01": 2}
    quarters = get(
        client,
        token,
        "timeseries",
        **{"from": "2024-02-15", "to": "2024-09-30", "interval": "quarter"},
    )
    assert series(quarters, "SEL85") == {"2024-02-15": 3, "2024-04-01": 3, "2024-07-01": 2}
    assert quarters["rows"][0]["period_end"] == "2024-03-31"
    weeks = get(
        client,
        token,
        "timeseries",
        **{"from": "2024-02-26", "to": "2024-03-10", "interval": "week", "programme": "SEL85"},
    )
    # ISO weeks from Monday; A2 starts Friday 2024-03-01
    assert series(weeks, "SEL85") == {"2024-02-26": 3, "2024-03-04": 3}
    feb = get(
        client,
        token,
        "timeseries",
        **{"from": "2024-02-19", "to": "2024-02-25", "interval": "week", "programme": "SEL85"},
    )
    assert series(feb, "SEL85") == {"2024-02-19": 2}
    get(client, token, "timeseries", status=422, **{"from": "2024-02-01", "to": "2024-01-01"})
    get(
        client,
        token,
        "timeseries",
        status=422,
        **{"from": "2024-01-01", "to": "2024-02-01", "interval": "day"},
    )
    get(
        client,
        token,
        "timeseries",
        status=404,
        **{"from": "2024-01-01", "to": "2024-02-01", "programme": "SEL999"},
    )


def test_analyst_timeseries_is_suppressed(client: TestClient, registry: Registry) -> None:
    body = get(
        client, registry.setup.analyst, "timeseries", **{"from": "2024-06-01", "to": "2024-06-30"}
    )
    assert body["suppressed"] is True
    assert series(body, "SEL85") == {"2024-06-01": None}
    assert series(body, "SEL82") == {"2024-06-01": 0}


def exclusive(client: TestClient, token: str, method: str, a: str, b: str) -> Any:
    return client.request(
        method, f"/api/v1/programmes/{a}/exclusive-with/{b}", headers=bearer(token)
    )


def test_double_enrolments_and_exclusive_pairs(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    token, admin = registry.setup.oversight, registry.setup.admin
    p2 = person_of(engine, "A2")
    body = get(client, token, "duplicates", as_of="2024-06-30")
    assert body["double_enrolments"]["counts"] == [
        {"programme": "SEL85", "persons": 1, "same_benefit_code": 0}
    ]
    assert [p["person_id"] for p in body["double_enrolments"]["persons"]] == [p2]
    assert {e["source_id"] for e in body["double_enrolments"]["persons"][0]["enrolments"]} == {
        "A2",
        "A2b",
    }
    assert body["exclusive"] == {"counts": [], "persons": []}
    # A2b starts 2024-05-01: before that P2 holds one SEL85 enrolment
    assert get(client, token, "duplicates", as_of="2024-04-30")["double_enrolments"]["counts"] == []

    response = exclusive(client, admin, "PUT", "SEL85", "SEL104")
    assert response.status_code == 200, response.text
    assert response.json() == {"programme": "SEL85", "exclusive_with": ["SEL104"]}
    assert exclusive(client, admin, "PUT", "SEL104", "SEL85").json()["exclusive_with"] == ["SEL85"]
    body = get(client, token, "duplicates", as_of="2024-06-30", programme="SEL104")
    assert body["double_enrolments"]["counts"] == []
    assert body["exclusive"]["counts"] == [{"programmes": ["SEL104", "SEL85"], "persons": 1}]
    assert [p["person_id"] for p in body["exclusive"]["persons"]] == [p2]
    # B4 (P4) is in SEL104 only; P2 only from 2024-03-01 in both
    assert get(client, token, "duplicates", as_of="2024-02-29")["exclusive"]["counts"] == []

    assert exclusive(client, admin, "DELETE", "SEL104", "SEL85").json()["exclusive_with"] == []
    assert get(client, token, "duplicates", as_of="2024-06-30")["exclusive"]["counts"] == []


def test_exclusivity_is_for_admins(client: TestClient, registry: Registry) -> None:
    for token in (registry.setup.oversight, registry.setup.analyst, registry.setup.sel85):
        assert exclusive(client, token, "PUT", "SEL85", "SEL104").status_code == 403
    admin = registry.setup.admin
    assert exclusive(client, admin, "PUT", "SEL85", "SEL85").status_code == 422
    assert exclusive(client, admin, "PUT", "SEL85", "SEL999").status_code == 404
    listed = client.get(
        "/api/v1/programmes/SEL85/exclusive-with", headers=bearer(registry.setup.oversight)
    )
    assert listed.status_code == 200 and listed.json()["exclusive_with"] == []


def test_analyst_duplicates_are_counts_suppressed(client: TestClient, registry: Registry) -> None:
    body = get(client, registry.setup.analyst, "duplicates", as_of="2024-06-30")
    assert body["double_enrolments"] == {
        "counts": [{"programme": "SEL85", "persons": None, "same_benefit_code": None}],
        "persons": None,
    }
    assert body["suppressed"] is True


def test_csv_answers(client: TestClient, registry: Registry) -> None:
    headers = {**bearer(registry.setup.oversight), "Accept": "text/csv"}
    response = client.get(
        "/api/v1/overview/coverage",
        params={"as_of": "2024-06-30", "by": "programme"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == [
        "section,programme,persons,enrolments,suspended,pending",
        "row,SEL104,2,2,0,0",
        "row,SEL85,3,4,0,0",
        "total,TOTAL,4,6,0,0",
    ]
    for path, params in (
        ("overlaps", {"as_of": "2024-06-30"}),
        ("overlaps/persons", {"as_of": "2024-06-30"}),
        ("timeseries", {"from": "2024-01-01", "to": "2024-03-31"}),
        ("duplicates", {"as_of": "2024-06-30"}),
        ("reconciliation", {"left": "SEL85", "right": "SEL104", "as_of": "2024-06-30"}),
    ):
        response = client.get(f"/api/v1/overview/{path}", params=params, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/csv"), path
        lines = response.text.splitlines()
        assert len(lines) >= 2 and "," in lines[0], (path, lines)
    overlaps = client.get(
        "/api/v1/overview/overlaps", params={"as_of": "2024-06-30"}, headers=headers
    ).text
    assert "matrix,SEL85,SEL104,1," in overlaps.splitlines()
    assert overlaps.splitlines()[-2:] == ["by_count,,,3,1", "by_count,,,1,2"]


def test_csv_cells_never_start_a_formula() -> None:
    from registry.overview.export import write_csv

    lines = write_csv([{"source_id": "=cmd()", "other": "@SUM(A1)", "n": -1, "m": "-2"}])
    assert lines.splitlines() == ["source_id,other,n,m", "'=cmd(),'@SUM(A1),-1,'-2"]
