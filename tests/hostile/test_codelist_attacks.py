"""Attacks on the code lists and programme edits: a feed client, an analyst or oversight
loading a list or editing a programme; one programme using another's own list (to create a
programme, in a batch); reading another programme's list; oversized and deep payloads."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.codelists.entries import MAX_CSV_BYTES, MAX_ENTRIES
from tests.codelists.conftest import People, load, people_fixture  # noqa: F401  (the fixture)
from tests.codelists.test_api import _rules
from tests.codelists.test_ngo_feed import _ngo, _ngo_record
from tests.factories import bearer, client_token, make_client, make_programme, push


def test_feed_clients_and_analysts_cannot_load_lists(
    engine: Engine, client: TestClient, people: People
) -> None:
    make_programme(engine, "NGO1", ["1.1"])
    feed = client_token(client, *make_client(engine, "NGO1"))
    for token in (feed, people.analyst, people.oversight):
        answer = load(client, token, "ngo1_benefits", "benefit", "NGO1", [{"code": "X.FOOD"}])
        assert answer.status_code == 403
        upload = client.post(
            "/api/v1/codelists/upload",
            files={"file": ("x.csv", b"code\nX.FOOD\n", "text/csv")},
            data={"name": "ngo1_benefits", "kind": "benefit", "owner": "NGO1"},
            headers=bearer(token),
        )
        assert upload.status_code == 403
    names = {
        r["name"] for r in client.get("/api/v1/codelists", headers=bearer(people.admin)).json()
    }
    assert "ngo1_benefits" not in names
    with engine.connect() as conn:
        loads = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'codelist.load'")
        )
        assert loads.scalar_one() == 0


def test_a_feed_client_sees_its_own_programmes_lists_not_anothers(
    engine: Engine, client: TestClient, people: People
) -> None:
    make_programme(engine, "NGO1", ["1.1"])
    make_programme(engine, "NGO2", ["1.1"])
    assert (
        load(
            client, people.admin, "ngo1_benefits", "benefit", "NGO1", [{"code": "X.FOOD"}]
        ).status_code
        == 201
    )
    own = client_token(client, *make_client(engine, "NGO1"))
    other = client_token(client, *make_client(engine, "NGO2"))
    assert client.get("/api/v1/codelists/ngo1_benefits", headers=bearer(own)).status_code == 200
    assert client.get("/api/v1/codelists/ngo1_benefits", headers=bearer(other)).status_code == 404
    seen = {r["name"] for r in client.get("/api/v1/codelists", headers=bearer(other)).json()}
    assert "ngo1_benefits" not in seen and "l402_benefits" in seen


def test_oversized_and_deep_payloads_are_refused(client: TestClient, people: People) -> None:
    many = [{"code": f"C{i}"} for i in range(MAX_ENTRIES + 1)]
    too_many = load(client, people.admin, "big_list", "benefit", None, many)
    assert too_many.status_code == 422
    assert "entries" in {f for f, _ in _rules(too_many)}
    deep: object = "x"
    for _ in range(40):
        deep = {"a": deep}
    nested = load(
        client, people.admin, "deep_list", "benefit", None, [{"code": "A", "attributes": deep}]
    )
    assert nested.status_code == 422
    long_value = load(
        client,
        people.admin,
        "long_list",
        "benefit",
        None,
        [{"code": "A", "attributes": {"paragraph": "§" * 201}}],
    )
    assert long_value.status_code == 422
    very_deep = (
        '{"name": "deep_list", "kind": "benefit", "entries": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    answer = client.post(
        "/api/v1/codelists",
        content=very_deep,
        headers={**bearer(people.admin), "Content-Type": "application/json"},
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    big_file = b"code\n" + b"A" * (MAX_CSV_BYTES + 10)
    too_big = client.post(
        "/api/v1/codelists/upload",
        files={"file": ("big.csv", big_file, "text/csv")},
        data={"name": "big_list", "kind": "benefit"},
        headers=bearer(people.admin),
    )
    assert too_big.status_code == 413
    rows = "code\n" + "".join(f"C{i}\n" for i in range(MAX_ENTRIES + 1))
    too_many_rows = client.post(
        "/api/v1/codelists/upload",
        files={"file": ("many.csv", rows.encode(), "text/csv")},
        data={"name": "big_list", "kind": "benefit"},
        headers=bearer(people.admin),
    )
    assert too_many_rows.status_code == 413
    assert json.loads(too_many_rows.text)["errors"][0]["field"] == "file"


def test_feed_clients_and_analysts_cannot_edit_programmes(
    engine: Engine, client: TestClient, people: People
) -> None:
    make_programme(engine, "NGO1", ["1.12.0.2"])
    feed = client_token(client, *make_client(engine, "NGO1"))
    for token in (feed, people.analyst, people.oversight):
        answer = client.patch(
            "/api/v1/programmes/NGO1", json={"trust_rank": 100}, headers=bearer(token)
        )
        assert answer.status_code == 403
        assert (
            client.get("/api/v1/programmes/NGO1/history", headers=bearer(token)).status_code == 403
        )
    held = client.get("/api/v1/programmes", headers=bearer(people.admin)).json()
    assert [p["trust_rank"] for p in held if p["code"] == "NGO1"] == [0]
    # loading a list for a programme does not let a feed client widen its own codes either
    assert (
        load(client, feed, "ngo1_benefits", "benefit", "NGO1", [{"code": "X.FOOD"}]).status_code
        == 403
    )


def test_another_programme_cannot_use_the_ngos_codes_or_words(
    engine: Engine, client: TestClient, people: People
) -> None:
    _ngo(client, engine, people.admin)
    created = client.post(
        "/api/v1/programmes",
        json={"code": "SEL85", "name": "Støtte", "benefit_codes": ["1.12.0.2"]},
        headers=bearer(people.admin),
    )
    assert created.status_code == 201
    other = client_token(client, *make_client(engine, "SEL85"))
    answer = push(
        client,
        other,
        "SEL85",
        "sel-1",
        [_ngo_record("S-1", "active"), _ngo_record("S-2", "exited", benefit_code="1.12.0.2")],
    )
    assert answer.json()["accepted"] == 0
    errors = {r["source_id"]: r["errors"] for r in answer.json()["results"]}
    assert [(e["field"], e["code"]) for e in errors["S-1"]] == [
        ("enrolment.benefit_code", "invalid_benefit_code")
    ]
    assert [(e["field"], e["code"]) for e in errors["S-2"]] == [
        ("enrolment.status", "invalid_code")
    ]
    # the NGO's feed client cannot push into the other programme either
    ngo = client_token(client, *make_client(engine, "NGO1"))
    assert push(client, ngo, "SEL85", "sel-2", [_ngo_record("S-3", "active")]).status_code == 403
