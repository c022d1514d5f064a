"""PATCH /api/v1/programmes/{code} and its history; a programme's own codes once listed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.codelists.conftest import People, load_ngo_lists
from tests.factories import bearer, make_user, user_token


def _create(client: TestClient, token: str, code: str, codes: list[str]) -> object:
    return client.post(
        "/api/v1/programmes",
        json={"code": code, "name": f"{code} food bank", "benefit_codes": codes},
        headers=bearer(token),
    )


def test_a_programme_may_grant_its_own_codes_once_they_are_in_its_list(
    client: TestClient, people: People
) -> None:
    before = _create(client, people.admin, "NGO1", ["X.FOOD"])
    assert before.status_code == 422  # type: ignore[attr-defined]
    error = before.json()["errors"][0]  # type: ignore[attr-defined]
    assert (error["field"], error["rule"]) == ("benefit_codes", "benefit_codes")
    assert (
        "non-empty list of L402 codes" in error["message"] and "unknown: X.FOOD" in error["message"]
    )
    load_ngo_lists(client, people.admin)
    created = _create(client, people.admin, "NGO1", ["X.FOOD", "1.12.0.2"])
    assert created.status_code == 201, created.text  # type: ignore[attr-defined]
    assert created.json()["benefit_codes"] == ["1.12.0.2", "X.FOOD"]  # type: ignore[attr-defined]
    # another programme may not use NGO1's own list
    other = _create(client, people.admin, "NGO2", ["X.FOOD"])
    assert other.status_code == 422  # type: ignore[attr-defined]
    assert "unknown: X.FOOD" in other.json()["errors"][0]["message"]  # type: ignore[attr-defined]


def test_an_admin_edits_a_programme_and_its_history_is_kept(
    engine: Engine, client: TestClient, people: People
) -> None:
    assert _create(client, people.admin, "NGO1", ["1.12.0.2"]).status_code == 201  # type: ignore[attr-defined]
    load_ngo_lists(client, people.admin)
    changed = client.patch(
        "/api/v1/programmes/NGO1",
        json={
            "name": "NGO1 Madhjælp",
            "agency": "Frivillig",
            "benefit_codes": ["X.FOOD", "1.12.0.2"],
        },
        headers=bearer(people.admin),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "code": "NGO1",
        "name": "NGO1 Madhjælp",
        "agency": "Frivillig",
        "benefit_codes": ["1.12.0.2", "X.FOOD"],
        "trust_rank": 0,
    }
    again = client.patch(
        "/api/v1/programmes/NGO1",
        json={"trust_rank": 7, "agency": None},
        headers=bearer(people.admin),
    )
    assert again.json()["trust_rank"] == 7 and again.json()["agency"] is None
    assert again.json()["name"] == "NGO1 Madhjælp"
    history = client.get("/api/v1/programmes/NGO1/history", headers=bearer(people.admin)).json()
    assert [(h["version"], h["name"], h["agency"], h["trust_rank"]) for h in history] == [
        (1, "NGO1 food bank", None, 0),
        (2, "NGO1 Madhjælp", "Frivillig", 0),
        (3, "NGO1 Madhjælp", None, 7),
    ]
    assert history[1]["benefit_codes"] == ["1.12.0.2", "X.FOOD"]
    assert {h["changed_by"] for h in history} == {history[0]["changed_by"]}
    assert history[0]["changed_by"].startswith("user:")
    make_user(engine, "auditor", ["auditor"])
    auditor = user_token(client, "auditor")
    assert client.get("/api/v1/programmes/NGO1/history", headers=bearer(auditor)).status_code == 200
    with engine.connect() as conn:
        events = (
            conn.execute(
                text("SELECT detail FROM audit_event WHERE action = 'programme.update' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert [e["fields"] for e in events] == [
        ["agency", "benefit_codes", "name"],
        ["agency", "trust_rank"],
    ]


def test_edits_are_refused_naming_the_field_and_rule(client: TestClient, people: People) -> None:
    assert _create(client, people.admin, "NGO1", ["1.12.0.2"]).status_code == 201  # type: ignore[attr-defined]
    unknown = client.patch(
        "/api/v1/programmes/NGO1", json={"benefit_codes": ["X.NOPE"]}, headers=bearer(people.admin)
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "benefit_codes"
    for body in ({"trust_rank": 101}, {"name": ""}, {"benefit_codes": []}, {"code": "NGO9"}):
        answer = client.patch("/api/v1/programmes/NGO1", json=body, headers=bearer(people.admin))
        assert answer.status_code == 422, body
    missing = client.patch(
        "/api/v1/programmes/NOPE", json={"trust_rank": 1}, headers=bearer(people.admin)
    )
    assert missing.status_code == 404
    history = client.get("/api/v1/programmes/NGO1/history", headers=bearer(people.admin)).json()
    assert len(history) == 1
