"""GET /api/v1/persons: exact by national ID, by name ranked by the linkage engine."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Setup
from tests.factories import bearer
from tests.persons.population import SOEREN_ID, People


def search(client: TestClient, token: str, **params: Any) -> Any:
    """A search with a purpose; the answer (status asserted 200)."""
    headers = {**bearer(token), "X-Purpose": "case 42"}
    response = client.get("/api/v1/persons", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(answer: Any) -> list[str]:
    return [p["person_id"] for p in answer["persons"]]


def test_a_national_id_finds_its_person_exactly(
    client: TestClient, setup: Setup, people: People
) -> None:
    answer = search(client, setup.oversight, national_id=SOEREN_ID)
    assert answer["by"] == "national_id" and ids(answer) == [people.soeren]
    found = answer["persons"][0]
    assert (found["given_name"], found["family_name"], found["birth_date"]) == (
        "Søren",
        "Kierkegaard",
        "1985-03-11",
    )
    assert found["programmes"] == ["SEL104", "SEL85"] and found["score"] is None
    # with separators and spaces, as people type it
    assert ids(search(client, setup.oversight, national_id=" 110385-1234 ")) == [people.soeren]


def test_a_misspelled_name_with_a_swapped_birth_date_finds_the_person_first(
    client: TestClient, setup: Setup, people: People
) -> None:
    answer = search(
        client,
        setup.oversight,
        given_name="Soeren",
        family_name="Kirkegaard",
        birth_date="1985-11-03",
    )
    assert answer["by"] == "name"
    assert set(ids(answer)[:2]) == {people.soeren, people.twin}
    best = answer["persons"][0]
    levels = {e["field"]: e["level"] for e in best["explanation"]}
    assert levels["given_name"] == "exact"  # Søren/Soeren: transliterated
    assert levels["birth_date"] == "day_month_swap"
    assert levels["family_name"] not in ("exact", "different", None)
    weights = {e["field"]: e["weight"] for e in best["explanation"]}
    assert best["score"] > 0 and weights["birth_date"] > 0
    assert best["probability"] > 0.5
    # best first
    scores = [p["score"] for p in answer["persons"]]
    assert scores == sorted(scores, reverse=True)


def test_swapped_names_and_missing_fields_still_find_the_person(
    client: TestClient, setup: Setup, people: People
) -> None:
    swapped = search(
        client,
        setup.oversight,
        given_name="Kierkegaard",
        family_name="Søren",
        birth_date="1985-03-11",
    )
    assert people.soeren in ids(swapped)[:2]
    no_date = search(client, setup.oversight, given_name="Søren", family_name="Kierkegaard")
    assert people.soeren in ids(no_date)[:2]
    no_given = search(client, setup.oversight, family_name="Kierkegård", birth_date="1985-03-11")
    assert {people.soeren, people.mette} <= set(ids(no_given))
    # a month above 12 is read as a day/month swap
    typed = search(
        client,
        setup.oversight,
        given_name="Søren",
        family_name="Kierkegaard",
        birth_date="1985-11-03",
    )
    assert people.soeren in ids(typed)[:2]


def test_filters_and_limit(client: TestClient, setup: Setup, people: People) -> None:
    query = {"given_name": "Søren", "family_name": "Kierkegaard", "birth_date": "1985-03-11"}
    assert ids(search(client, setup.oversight, **query, region="1085")) == [people.twin]
    by_programme = ids(search(client, setup.oversight, **query, programme="SEL85"))
    assert people.soeren in by_programme and people.twin not in by_programme
    limited = search(client, setup.oversight, **query, limit=1)
    assert len(limited["persons"]) == 1 and limited["limit"] == 1
    jensens = search(client, setup.oversight, family_name="Jensen", given_name="Jens")
    assert len(ids(jensens)) == 10


def test_the_answer_states_nothing_when_nothing_matches(
    client: TestClient, setup: Setup, people: People
) -> None:
    assert search(client, setup.oversight, national_id="0102031234")["persons"] == []
    nobody = search(client, setup.oversight, given_name="Xavier", family_name="Qwerty")
    assert nobody["persons"] == []


def test_candidates_that_all_score_below_the_bar_answer_nobody(
    client: TestClient, setup: Setup, people: People
) -> None:
    # shares the family name and birth year with the Kierkegaards (a blocking key), so
    # their records are scored, and every one of them scores below MIN_SCORE
    answer = search(
        client,
        setup.oversight,
        given_name="Xavier",
        family_name="Kierkegaard",
        birth_date="1985-07-25",
    )
    assert answer == {"by": "name", "limit": 10, "persons": []}
