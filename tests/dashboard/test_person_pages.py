"""The person search and person page over HTTP (no browser): rules, audit, actions, refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.settings import Settings
from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import PASSWORD, make_user
from tests.persons.population import ANNA_ID, SOEREN_ID, People, add_people

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}


@pytest.fixture
def people(client: TestClient, setup: Setup, engine: Engine) -> People:  # noqa: F811
    return add_people(client, setup, engine)


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    response = client.post(
        "/dashboard/login",
        data={"username": username, "password": PASSWORD},
        headers=SAME,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def find(client: TestClient, **form: Any) -> Any:
    return client.post(
        "/dashboard/persons", data={"purpose": "case", **form}, headers={**SAME, **HTML}
    )


def events(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT purpose, person_ids, detail, e::text AS whole FROM audit_event e "
                    "WHERE action = :a ORDER BY id"
                ),
                {"a": action},
            ).mappings()
        )


def test_search_page_finds_by_id_and_name_and_audits_digests(
    client: TestClient, people: People, engine: Engine
) -> None:
    sign_in(client, "oversight")
    form = client.get("/dashboard/persons", headers=HTML)
    assert form.status_code == 200 and 'id="search-form"' in form.text
    by_id = find(client, national_id=SOEREN_ID, case="J.nr 7")
    assert by_id.status_code == 200, by_id.text
    assert f'data-person="{people.soeren}"' in by_id.text and SOEREN_ID not in by_id.text
    by_name = find(client, given_name="Soeren", family_name="Kirkegaard", birth_date="1985-11-03")
    assert f'data-person="{people.soeren}"' in by_name.text
    assert 'data-level="day_month_swap"' in by_name.text
    first, second = events(engine, "person.search")
    assert first["purpose"] == "dashboard:case case:J.nr 7"
    assert [str(p) for p in first["person_ids"]] == [people.soeren]
    assert first["detail"]["by"] == "national_id" and first["detail"]["national_id_digest"]
    assert second["detail"]["fields"] == ["given_name", "family_name", "birth_date"]
    for event in (first, second):
        assert SOEREN_ID not in event["whole"] and "Kirkegaard" not in event["whole"]


def test_a_search_needs_a_purpose_a_valid_query_and_the_same_origin(
    client: TestClient, people: People, engine: Engine
) -> None:
    sign_in(client, "oversight")
    missing = client.post(
        "/dashboard/persons", data={"national_id": SOEREN_ID}, headers={**SAME, **HTML}
    )
    assert missing.status_code == 422 and 'id="search-errors"' in missing.text
    assert "Choose the purpose" in missing.text
    bad = find(client, national_id="12")
    assert bad.status_code == 422 and "national_id" in bad.text
    bad_da = client.post(
        "/dashboard/persons?lang=da",
        data={"purpose": "case", "family_name": "Jensen"},
        headers={**SAME, **HTML},
    )
    assert bad_da.status_code == 422 and 'lang="da"' in bad_da.text
    forged = client.post(
        "/dashboard/persons",
        data={"purpose": "case", "national_id": SOEREN_ID},
        headers={"Origin": "http://evil.example", **HTML},
    )
    assert forged.status_code == 403
    assert events(engine, "person.search") == []


def test_another_region_gets_nothing_from_search_or_person_page(
    client: TestClient, people: People
) -> None:
    sign_in(client, "steward")  # region 1084; Anna is in 1085 only
    assert 'id="no-results"' in find(client, national_id=ANNA_ID).text
    assert 'id="no-results"' in find(client, given_name="Anna", family_name="Jensen").text
    hidden = client.get(f"/dashboard/persons/{people.anna}?purpose=case", headers=HTML)
    nobody = client.get(
        "/dashboard/persons/01a251c1-0000-7000-8000-000000000000?purpose=case", headers=HTML
    )
    assert hidden.status_code == nobody.status_code == 404
    # the same page to the byte, but for the id asked for and the session's clock (minutes left)
    assert _unclocked(hidden.text.replace(people.anna, "X")) == _unclocked(
        nobody.text.replace("01a251c1-0000-7000-8000-000000000000", "X")
    )


def _unclocked(page: str) -> str:
    """A page without the session frame's minute count (two requests may straddle a minute)."""
    return re.sub(r"warn-after(-|=\")\d+", r"warn-after\1N", page)


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_other_roles_are_refused_the_pages(
    client: TestClient, people: People, engine: Engine, role: str
) -> None:
    sign_in(client, role)
    assert client.get("/dashboard/persons", headers=HTML).status_code == 403
    assert find(client, national_id=SOEREN_ID).status_code == 403
    page = client.get(f"/dashboard/persons/{people.soeren}?purpose=case", headers=HTML)
    assert page.status_code == 403 and "Kierkegaard" not in page.text


def test_the_person_page_asks_for_a_purpose_then_shows_and_audits(
    client: TestClient, people: People, engine: Engine
) -> None:
    sign_in(client, "oversight")
    ask = client.get(f"/dashboard/persons/{people.soeren}", headers=HTML)
    assert 'id="purpose-form"' in ask.text and "Kierkegaard" not in ask.text
    assert events(engine, "person.read") == []
    shown = client.get(
        f"/dashboard/persons/{people.soeren}",
        params={"purpose": "control", "as_of": "2024-06-01"},
        headers=HTML,
    )
    assert shown.status_code == 200
    assert 'data-field="given_name"' in shown.text and "Søren" in shown.text
    assert shown.text.count('class="episode"') == 2 and 'id="active"' in shown.text
    assert 'id="merge-form"' not in shown.text  # oversight reads only
    before = client.get(
        f"/dashboard/persons/{people.soeren}",
        params={"purpose": "control", "as_of": "2023-06-01"},
        headers=HTML,
    )
    assert 'id="none-active"' in before.text
    read = events(engine, "person.read")
    assert read[0]["purpose"] == "dashboard:control"
    assert [str(p) for p in read[0]["person_ids"]] == [people.soeren]


def test_stewards_act_with_a_reason_oversight_may_not(
    client: TestClient, people: People, engine: Engine
) -> None:
    sign_in(client, "oversight")
    refused = client.post(
        f"/dashboard/persons/{people.soeren}/merge",
        data={"other": people.regine, "reason": "x", "purpose": "linkage"},
        headers={**SAME, **HTML},
    )
    assert refused.status_code == 403
    sign_in(client, "steward")
    base = f"/dashboard/persons/{people.soeren}"
    no_reason = client.post(
        f"{base}/merge",
        data={"other": people.regine, "purpose": "linkage"},
        headers={**SAME, **HTML},
    )
    assert no_reason.status_code == 422
    rectified = client.post(
        f"{base}/rectify",
        data={"mother_name": "Ane Lund", "reason": "birth certificate", "purpose": "subject"},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert rectified.status_code == 303, rectified.text
    page = client.get(rectified.headers["location"], headers=HTML)
    assert 'id="done"' in page.text and "Ane Lund" in page.text
    assert "rectified by a steward" in page.text
    exported = client.get(f"{base}/subject-access?purpose=subject", headers=HTML)
    assert exported.status_code == 200
    assert json.loads(exported.text)["person"]["person_id"] == people.soeren
    sign_in(client, "oversight")
    assert client.get(f"{base}/subject-access?purpose=subject", headers=HTML).status_code == 403


def test_searches_are_rate_limited_with_a_page(
    engine: Engine, settings: Settings, people: People
) -> None:
    strict = settings.model_copy(update={"person_searches_per_minute": 2})
    with TestClient(create_app(engine, strict)) as client:
        sign_in(client, "oversight")
        for _ in range(2):
            assert find(client, national_id=SOEREN_ID).status_code == 200
        refused = find(client, national_id=SOEREN_ID)
        assert refused.status_code == 429 and 'id="error"' in refused.text
        assert int(refused.headers["Retry-After"]) >= 1


def test_a_user_of_another_region_made_for_the_purpose(
    client: TestClient, people: People, engine: Engine
) -> None:
    make_user(engine, "oversight_1085", ["oversight"], ["1085"])
    sign_in(client, "oversight_1085")
    assert 'id="no-results"' in find(client, national_id=SOEREN_ID).text
    page = client.get(f"/dashboard/persons/{people.soeren}?purpose=case", headers=HTML)
    assert page.status_code == 404 and "Kierkegaard" not in page.text
