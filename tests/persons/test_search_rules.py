"""The search's rules: purpose, roles, scope (no differencing), audit, digests, rate, input."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.settings import Settings
from tests.api.conftest import Setup
from tests.factories import bearer
from tests.persons.population import ANNA_ID, NOBODY_ID, SOEREN_ID, TWIN_ID, People
from tests.persons.test_search_api import ids, search

SOEREN = {"given_name": "Søren", "family_name": "Kierkegaard", "birth_date": "1985-03-11"}


def test_a_search_without_a_purpose_is_refused_naming_the_header(
    client: TestClient, setup: Setup, people: People
) -> None:
    response = client.get(
        "/api/v1/persons", params={"national_id": SOEREN_ID}, headers=bearer(setup.oversight)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["X-Purpose"]


@pytest.mark.parametrize("role", ["analyst", "admin", "feed"])
def test_other_roles_are_refused(
    client: TestClient, setup: Setup, people: People, role: str, engine: Engine
) -> None:
    token = {"analyst": setup.analyst, "admin": setup.admin, "feed": setup.sel85}[role]
    response = client.get(
        "/api/v1/persons",
        params={"national_id": SOEREN_ID},
        headers={**bearer(token), "X-Purpose": "curious"},
    )
    assert response.status_code == 403


def test_a_steward_of_another_region_gets_nothing(
    client: TestClient, setup: Setup, people: People
) -> None:
    steward = setup.steward_1084
    # Anna is only in region 1085: by ID and by name she is absent, like nobody
    by_id = search(client, steward, national_id=ANNA_ID)
    assert (
        by_id
        == search(client, steward, national_id=NOBODY_ID)
        == {
            "by": "national_id",
            "limit": 10,
            "persons": [],
        }
    )
    assert ids(search(client, steward, given_name="Anna", family_name="Jensen")) == []
    assert ids(search(client, steward, national_id=TWIN_ID)) == []
    # the region filter cannot reach outside the scope either
    assert ids(search(client, steward, **SOEREN, region="1085")) == []
    # in scope: Søren, not his look-alike of region 1085
    mine = ids(search(client, steward, **SOEREN))
    assert people.soeren in mine and people.twin not in mine and people.anna not in mine


def test_differencing_two_searches_reveals_no_one_outside_the_scope(
    client: TestClient, setup: Setup, people: People
) -> None:
    steward = setup.steward_1084
    # the out-of-scope twin scores exactly as Søren: with limit 1 the steward still gets
    # Søren (scope applies before the ranking and the limit), the same answer every time
    first = search(client, steward, **SOEREN, limit=1)
    assert ids(first) == [people.soeren]
    # with and without a region filter naming the steward's own region: the same persons
    assert ids(search(client, steward, **SOEREN, region="1084")) == ids(
        search(client, steward, **SOEREN)
    )
    # a programme only the out-of-scope persons share with Søren changes nothing either
    assert ids(search(client, steward, **SOEREN, programme="SEL104")) == [people.soeren]


def test_the_trail_names_the_persons_answered_and_the_digest_never_the_id(
    client: TestClient, setup: Setup, people: People, engine: Engine, caplog: Any
) -> None:
    with caplog.at_level(logging.DEBUG):
        search(client, setup.oversight, national_id=SOEREN_ID)
        search(client, setup.steward_1084, **SOEREN)
    with engine.connect() as conn:
        events = (
            conn.execute(
                text(
                    "SELECT actor, purpose, person_ids, detail, e::text AS whole "
                    "FROM audit_event e WHERE action = 'person.search' ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
    by_id, by_name = events
    assert by_id["purpose"] == "case 42" and [str(p) for p in by_id["person_ids"]] == [
        people.soeren
    ]
    assert by_id["detail"]["fields"] == ["national_id"]
    assert len(by_id["detail"]["national_id_digest"]) == 64
    assert by_name["detail"]["fields"] == ["given_name", "family_name", "birth_date"]
    assert people.soeren in [str(p) for p in by_name["person_ids"]]
    assert people.twin not in [str(p) for p in by_name["person_ids"]]
    for event in events:
        for secret in (SOEREN_ID, "110385-1234", "Søren", "Kierkegaard", "1985-03-11"):
            assert secret not in event["whole"]
    # what the registry logs (the test's own HTTP client, httpx, logs its URLs: not ours)
    logged = "\n".join(
        r.getMessage() + str(r.__dict__) for r in caplog.records if r.name != "httpx"
    )
    assert "registry.access" in logged
    assert SOEREN_ID not in logged and "Kierkegaard" not in logged


def test_searches_are_rate_limited_per_principal(
    engine: Engine, settings: Settings, setup: Setup, people: People
) -> None:
    strict = settings.model_copy(update={"person_searches_per_minute": 3})
    with TestClient(create_app(engine, strict)) as client:
        for _ in range(3):
            search(client, setup.oversight, national_id=SOEREN_ID)
        refused = client.get(
            "/api/v1/persons",
            params={"national_id": SOEREN_ID},
            headers={**bearer(setup.oversight), "X-Purpose": "case 42"},
        )
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "person searches a minute" in refused.json()["detail"]
        # another principal is not held up
        search(client, setup.steward_1084, national_id=SOEREN_ID)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"national_id": "123"}, "national_id"),
        ({"national_id": "3213851234"}, "national_id"),
        ({"national_id": SOEREN_ID, "family_name": "Kierkegaard"}, "national_id"),
        ({"family_name": "Kierkegaard"}, "family_name"),
        ({}, "family_name"),
        ({"family_name": "Kierkegaard", "birth_date": "1985-13-13"}, "birth_date"),
        ({"family_name": "Kierkegaard", "birth_date": "11-03-1985"}, "birth_date"),
        ({"family_name": "Kierkegaard", "birth_date": "2999-01-01"}, "birth_date"),
        ({**SOEREN, "limit": 51}, "limit"),
        ({**SOEREN, "region": "x' OR 1=1"}, "region"),
        ({**SOEREN, "given_name": "x" * 201}, "given_name"),
        ({**SOEREN, "nationalId": "1"}, "nationalId"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_never_echoing_an_id(
    client: TestClient, setup: Setup, people: People, params: dict[str, Any], field: str
) -> None:
    response = client.get(
        "/api/v1/persons", params=params, headers={**bearer(setup.oversight), "X-Purpose": "x42"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in [e["field"] for e in body.get("errors", [])] or field in body["detail"]
    assert "3213851234" not in response.text and SOEREN_ID not in response.text
