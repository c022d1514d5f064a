"""Reconciliation both ways: two programmes, and a programme against an uploaded extract.

On 2024-06-30: SEL85 holds P1 (1.12.0.1), P2 (1.12.0.2 from 03-01, 1.12.0.1 from 05-01), P3
(1.12.0.2); SEL104 holds P2 and P4 (1.1).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import bearer
from tests.overview.conftest import P1, P2, P4, Registry


def ids(engine: Engine, *source_ids: str) -> set[str]:
    with engine.connect() as conn:
        return {
            str(p)
            for p in conn.execute(
                text("SELECT person_id FROM source_record WHERE source_id = ANY(:s)"),
                {"s": list(source_ids)},
            ).scalars()
        }


def get(client: TestClient, token: str, status: int = 200, **params: Any) -> Any:
    response = client.get("/api/v1/overview/reconciliation", params=params, headers=bearer(token))
    assert response.status_code == status, response.text
    return response.json()


def test_two_programmes_both_directions(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    body = get(client, registry.setup.oversight, left="SEL85", right="SEL104", as_of="2024-06-30")
    assert body["summary"] == {
        "left": 3,
        "right": 2,
        "both": 1,
        "left_only": 2,
        "right_only": 1,
        "differing": 1,
        "unresolved": 0,
    }
    assert {p["person_id"] for p in body["left_only"]} == ids(engine, "A1", "A3")
    assert {p["person_id"] for p in body["right_only"]} == ids(engine, "B4")
    assert [p["differences"] for p in body["differing"]] == [["benefit_code"]]
    assert {c["benefit_code"]: (c["left"], c["right"]) for c in body["by_benefit_code"]} == {
        "1.1": (0, 2),
        "1.12.0.1": (2, 0),
        "1.12.0.2": (2, 0),
    }
    reverse = get(
        client, registry.setup.oversight, left="SEL104", right="SEL85", as_of="2024-06-30"
    )
    assert {p["person_id"] for p in reverse["right_only"]} == ids(engine, "A1", "A3")
    assert {p["person_id"] for p in reverse["left_only"]} == ids(engine, "B4")
    narrowed = get(
        client,
        registry.setup.oversight,
        left="SEL85",
        right="SEL104",
        as_of="2024-06-30",
        benefit_code="1.12.0.1",
    )
    assert narrowed["summary"]["left"] == 2 and narrowed["summary"]["right"] == 0
    # as recorded before the correction, P1 (A1) is still in SEL85 on 2024-07-01
    then = get(
        client,
        registry.setup.oversight,
        left="SEL85",
        right="SEL104",
        as_of="2024-07-01",
        recorded_at=registry.before_correction.isoformat(),
    )
    now = get(client, registry.setup.oversight, left="SEL85", right="SEL104", as_of="2024-07-01")
    assert (then["summary"]["left_only"], now["summary"]["left_only"]) == (2, 1)


def upload(client: TestClient, token: str, csv_text: str, **params: Any) -> Any:
    return client.post(
        "/api/v1/overview/reconciliation",
        params={"left": "SEL85", "as_of": "2024-06-30", **params},
        files={"reference": ("extract.csv", csv_text.encode(), "text/csv")},
        headers=bearer(token),
    )


REFERENCE = f"""source_id,national_id,benefit_code,start_date,end_date
,{P1["national_id"]},1.12.0.1,2024-01-01,2024-06-30
A2,,1.12.0.2,2024-03-02,
,{P2["national_id"]},1.12.0.1,2024-05-01,
,{P4["national_id"]},1.12.0.2,2024-01-01,
,0909909999,1.12.0.2,2024-01-01,
A1,,1.12.0.2,2025-01-01,
"""


def test_programme_against_an_uploaded_extract(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    response = upload(client, registry.setup.oversight, REFERENCE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["right"] == "reference"
    # P1 matches exactly; P2's 1.12.0.2 start differs by a day; P3 is missing from the extract;
    # P4 is only in the extract; one national ID resolves to nobody; the last row starts later
    assert body["summary"] == {
        "left": 3,
        "right": 3,
        "both": 2,
        "left_only": 1,
        "right_only": 1,
        "differing": 1,
        "unresolved": 1,
    }
    assert {p["person_id"] for p in body["left_only"]} == ids(engine, "A3")
    assert {p["person_id"] for p in body["right_only"]} == ids(engine, "B4")
    assert [(p["person_id"], p["differences"]) for p in body["differing"]] == [
        (next(iter(ids(engine, "A2"))), ["start_date"])
    ]
    assert body["unresolved"] == [
        {
            "benefit_code": "1.12.0.2",
            "start_date": "2024-01-01",
            "end_date": None,
            "origin": "row 6",
        }
    ]
    assert "0909909999" not in response.text
    csv_answer = client.post(
        "/api/v1/overview/reconciliation",
        params={"left": "SEL85", "as_of": "2024-06-30"},
        files={"reference": ("extract.csv", REFERENCE.encode(), "text/csv")},
        headers={**bearer(registry.setup.oversight), "Accept": "text/csv"},
    )
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text.splitlines()[1].startswith("summary,3,3,2,1,1,1,1")


def test_bad_extracts_are_422(client: TestClient, registry: Registry) -> None:
    token = registry.setup.oversight
    assert upload(client, token, "name,code\nx,1\n").status_code == 422
    bad_date = upload(client, token, "source_id,benefit_code,start_date\nA1,1.1,2024-13-01\n")
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["field"] == "row 2.start_date"
    assert upload(client, token, "source_id,benefit_code\n,1.1\n").status_code == 422


def test_roles(client: TestClient, registry: Registry) -> None:
    body = get(client, registry.setup.analyst, left="SEL85", right="SEL104", as_of="2024-06-30")
    assert body["left_only"] is None and body["differing"] is None
    assert body["summary"]["left_only"] is None and body["suppressed"] is True
    assert upload(client, registry.setup.analyst, REFERENCE).status_code == 403
    get(client, registry.setup.steward_1084, status=403, left="SEL85", right="SEL104")
    get(client, registry.setup.sel85, status=403, left="SEL85", right="SEL104")
    get(client, registry.setup.oversight, status=404, left="SEL85", right="NOPE")
