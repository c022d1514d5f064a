"""Survivorship of the golden record: trust, recency, completeness, steward corrections."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, push, record

SEL104_ENROLMENT = {"benefit_code": "1.1", "target_group": "1.1.1", "start_date": "2024-01-01"}


def golden(engine: Engine, person_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT given_name, family_name, birth_date::text, municipality, mother_name "
                    "FROM person WHERE id = CAST(:p AS uuid)"
                ),
                {"p": person_id},
            )
            .mappings()
            .one()
        )
    return dict(row)


def trust(engine: Engine, code: str, rank: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE programme SET trust_rank = :r WHERE code = :c"), {"r": rank, "c": code}
        )


def test_most_trusted_programme_wins_and_missing_values_never_erase(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    trust(engine, "SEL104", 10)
    first = push(client, setup.sel85, "SEL85", "b1", [record("A", municipality="101")]).json()
    person = first["results"][0]["person_id"]
    trusted = record("X", municipality="157", mother_name=None, enrolment=SEL104_ENROLMENT)
    assert push(client, setup.sel104, "SEL104", "b1", [trusted]).status_code == 200
    held = golden(engine, person)
    assert held["municipality"] == "157"  # the trusted programme's value
    assert held["mother_name"] == "Karen Paulsen"  # missing there, so the other record's

    newer = record("A", municipality="999", given_name="Britta Marie")
    push(client, setup.sel85, "SEL85", "b2", [newer])
    held = golden(engine, person)
    assert held["municipality"] == "157"  # trust beats recency
    assert held["given_name"] == "Britta"


def test_most_recent_record_wins_between_equally_trusted(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    person = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    later = record("X", family_name="Paulsen-Holm", enrolment=SEL104_ENROLMENT)
    push(client, setup.sel104, "SEL104", "b1", [later])
    assert golden(engine, person["person_id"])["family_name"] == "Paulsen-Holm"


def test_a_steward_correction_survives_later_feeds(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    person = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    answer = client.post(
        f"/api/v1/persons/{person['person_id']}/rectify",
        json={"fields": {"mother_name": "Karen Margrethe Paulsen"}, "reason": "certificate"},
        headers=bearer(setup.steward_1084),
    )
    assert answer.status_code == 200, answer.text
    push(client, setup.sel85, "SEL85", "b2", [record("A", municipality="101")])
    held = golden(engine, person["person_id"])
    assert held["mother_name"] == "Karen Margrethe Paulsen"
    assert held["municipality"] == "101"
