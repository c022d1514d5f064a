"""An NGO's feed in its own codes and status words goes in untouched: API batch and file import."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.codelists.conftest import People, load_ngo_lists
from tests.factories import bearer, client_token, make_client, push, record


def _ngo(client: TestClient, engine: Engine, admin: str, code: str = "NGO1") -> str:
    """An NGO programme granting its own X.FOOD, its lists loaded; its feed client's token."""
    load_ngo_lists(client, admin, code)
    created = client.post(
        "/api/v1/programmes",
        json={"code": code, "name": "Food bank", "benefit_codes": ["X.FOOD", "X.SHELTER"]},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    return client_token(client, *make_client(engine, code))


def _ngo_record(source_id: str, status: str, **enrolment: Any) -> dict[str, Any]:
    return record(
        source_id,
        enrolment={
            "benefit_code": "X.FOOD",
            "target_group": None,
            "status": status,
            "start_date": "2024-01-01",
            "end_date": "2024-06-30" if status == "exited" else None,
            "amount": None,
            **enrolment,
        },
    )


def _stored(engine: Engine, source_id: str) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT e.benefit_code, e.status, v.payload -> 'enrolment' "
                    "FROM source_record r JOIN enrolment e ON e.source_record_id = r.id "
                    "JOIN source_record_version v ON v.source_record_id = r.id "
                    "WHERE r.source_id = :s"
                ),
                {"s": source_id},
            ).one()
        )


def test_an_ngo_batch_in_its_own_codes_and_status_words_is_accepted(
    engine: Engine, client: TestClient, people: People
) -> None:
    feed = _ngo(client, engine, people.admin)
    answer = push(
        client,
        feed,
        "NGO1",
        "ngo-1",
        [
            _ngo_record("N-1", "exited"),
            _ngo_record("N-2", "enrolled"),
            _ngo_record("N-3", "active"),
        ],
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 3 and body["rejected"] == 0, body
    benefit, status, enrolment = _stored(engine, "N-1")
    assert (benefit, status) == ("X.FOOD", "ended")
    assert enrolment["status"] == "ended" and enrolment["status_as_sent"] == "exited"
    assert _stored(engine, "N-2")[:2] == ("X.FOOD", "active")
    # a registry word is stored as it is, and its version carries no extra key (same hash)
    assert "status_as_sent" not in _stored(engine, "N-3")[2]
    again = push(client, feed, "NGO1", "ngo-2", [_ngo_record("N-1", "exited")])
    assert again.json()["unchanged"] == 1


def test_an_ngo_file_import_in_its_own_codes_and_status_words_is_accepted(
    engine: Engine, client: TestClient, people: People
) -> None:
    feed = _ngo(client, engine, people.admin)
    export = (
        "Id;Navn;Efternavn;Født;Køn;Kommune;Ydelse;Status;Start;Slut\n"
        "F-1;Britta;Paulsen;1940-05-07;F;157;X.FOOD;exited;2024-01-01;2024-03-31\n"
        "F-2;Jens;Hansen;1950-02-03;M;157;X.SHELTER;on_hold;2024-02-01;\n"
    ).encode()
    mapping = {
        "programme": "NGO1",
        "columns": {
            "Id": "source_id",
            "Navn": "given_name",
            "Efternavn": "family_name",
            "Født": "birth_date",
            "Køn": "sex",
            "Kommune": "municipality",
            "Ydelse": "enrolment.benefit_code",
            "Status": "enrolment.status",
            "Start": "enrolment.start_date",
            "Slut": "enrolment.end_date",
        },
        "csv": {"delimiter": ";"},
    }
    answer = client.post(
        "/api/v1/programmes/NGO1/imports",
        files={"file": ("ngo.csv", export, "text/csv")},
        data={"mapping": json.dumps(mapping)},
        headers=bearer(feed),
    )
    assert answer.status_code == 200, answer.text
    summary = answer.json()["summary"]
    assert (summary["accepted"], summary["rejected"]) == (2, 0), answer.json()
    benefit, status, enrolment = _stored(engine, "F-1")
    assert (benefit, status, enrolment["status_as_sent"]) == ("X.FOOD", "ended", "exited")
    assert _stored(engine, "F-2")[:2] == ("X.SHELTER", "suspended")


def test_a_code_retired_before_the_episode_began_is_refused(
    engine: Engine, client: TestClient, people: People
) -> None:
    feed = _ngo(client, engine, people.admin)
    retired = [
        {
            "code": "X.FOOD",
            "description": "Food parcel",
            "valid_from": "2015-01-01",
            "valid_to": "2019-12-31",
        },
        {"code": "X.SHELTER", "valid_from": "2015-01-01"},
    ]
    reload = client.post(
        "/api/v1/codelists",
        json={"name": "ngo1_benefits", "kind": "benefit", "owner": "NGO1", "entries": retired},
        headers=bearer(people.admin),
    )
    assert reload.json()["version"] == 2
    answer = push(
        client,
        feed,
        "NGO1",
        "b-1",
        [
            _ngo_record("R-1", "enrolled", start_date="2020-03-01"),
            _ngo_record("R-2", "enrolled", start_date="2019-03-01"),
        ],
    )
    results = {r["source_id"]: r for r in answer.json()["results"]}
    (error,) = results["R-1"]["errors"]
    assert (error["field"], error["code"]) == ("enrolment.benefit_code", "code_not_valid_on_dates")
    assert "2015-01-01 to 2019-12-31" in error["message"] and "2020-03-01" in error["message"]
    assert results["R-2"]["status"] != "rejected"
