"""Data-subject rights: subject access, audited rectification, pseudonymised export."""

from __future__ import annotations

import csv
import hashlib
import hmac
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from registry.cli.main import app
from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture)
from tests.factories import bearer, record

NATIONAL_ID = "0705404916"


def _person(client: TestClient, setup: Setup) -> str:  # noqa: F811
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        headers=bearer(setup.sel85),
        json={"batch_id": "b1", "records": [record("SEL85-1", national_id=NATIONAL_ID)]},
    ).json()
    client.post(
        "/api/v1/programmes/SEL104/batches",
        headers=bearer(setup.sel104),
        json={
            "batch_id": "c1",
            "records": [
                record("SEL104-9", national_id=NATIONAL_ID, enrolment={"benefit_code": "1.1"})
            ],
        },
    )
    return str(answer["results"][0]["person_id"])


def test_subject_access_exports_everything_held_and_who_accessed(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    person = _person(client, setup)
    read = {**bearer(setup.oversight), "X-Purpose": "case 42"}
    assert client.get(f"/api/v1/persons/{person}", headers=read).status_code == 200
    export = client.get(
        f"/api/v1/persons/{person}/subject-access", headers=bearer(setup.steward_1084)
    )
    assert export.status_code == 200
    body = export.json()
    assert body["person"]["person_id"] == person and body["person"]["given_name"] == "Britta"
    assert {(r["programme"], r["source_id"]) for r in body["source_records"]} == {
        ("SEL85", "SEL85-1"),
        ("SEL104", "SEL104-9"),
    }
    assert all(r["versions"] for r in body["source_records"])
    assert {e["programme"] for e in body["enrolments"]} == {"SEL85", "SEL104"}
    accessed = [(a["action"], a["roles"], a["purpose"]) for a in body["accessed_by"]]
    assert ("person.read", ["oversight"], "case 42") in accessed
    assert [a for a in accessed if a[0] == "feed.batch"]
    # the raw national ID is never part of the export (a masked form and digests only)
    assert NATIONAL_ID not in export.text
    # and the export itself is an audited access
    with engine.connect() as conn:
        actions = list(
            conn.execute(
                text("SELECT action FROM audit_event WHERE person_ids @> ARRAY[:p] ORDER BY id"),
                {"p": person},
            ).scalars()
        )
    assert actions[-1] == "person.subject_access"
    for token in (setup.oversight, setup.admin, setup.analyst, setup.sel85):
        path = f"/api/v1/persons/{person}/subject-access"
        assert client.get(path, headers=bearer(token)).status_code == 403


def test_rectification_keeps_the_old_value_and_is_audited(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
    owner_engine: Engine,
) -> None:
    person = _person(client, setup)
    path = f"/api/v1/persons/{person}/rectify"
    steward = bearer(setup.steward_1084)
    body = {
        "fields": {"mother_name": "Karen Marie Paulsen", "birth_date": "1940-05-08"},
        "reason": "birth certificate seen",
    }
    done = client.post(path, json=body, headers=steward)
    assert done.status_code == 200
    assert done.json() == {"person_id": person, "rectified": ["birth_date", "mother_name"]}
    held = client.get(f"/api/v1/persons/{person}", headers=bearer(setup.oversight)).json()
    assert held["mother_name"] == "Karen Marie Paulsen" and held["birth_date"] == "1940-05-08"
    export = client.get(f"/api/v1/persons/{person}/subject-access", headers=steward).json()
    history = {(r["field"], r["old_value"], r["new_value"]) for r in export["rectifications"]}
    assert history == {
        ("mother_name", "Karen Paulsen", "Karen Marie Paulsen"),
        ("birth_date", "1940-05-07", "1940-05-08"),
    }
    with engine.connect() as conn:
        event = conn.execute(
            text(
                "SELECT actor, person_ids, record_ids, detail FROM audit_event "
                "WHERE action = 'person.rectify'"
            )
        ).one()
    assert event.person_ids == [person]
    assert event.detail == {"fields": ["birth_date", "mother_name"]}
    assert "Karen" not in str(event.detail) and "SEL85:SEL85-1" in event.record_ids
    # the kept versions are append-only: the app role may not update them, the owner's
    # trigger refuses it too
    with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
        conn.execute(text("UPDATE person_rectification SET old_value = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
        conn.execute(text("UPDATE person_rectification SET old_value = 'x'"))
    # refused: unknown or scope fields, no change, bad values, no reason, extra keys
    for bad in (
        {"fields": {"region": "1081"}, "reason": "move"},
        {"fields": {"mother_name": "Karen Marie Paulsen"}, "reason": "again"},
        {"fields": {"birth_date": "2999-01-01"}, "reason": "typo"},
        {"fields": {"sex": "Q"}, "reason": "typo"},
        {"fields": {"given_name": "Eva"}, "reason": ""},
        {"fields": {"given_name": "Eva"}, "reason": "x", "roles": ["admin"]},
    ):
        assert client.post(path, json=bad, headers=steward).status_code == 422, bad
    assert client.post(path, json=body, headers=bearer(setup.oversight)).status_code == 403


def test_pseudonymised_export_has_no_identities_and_a_keyed_pseudonym(
    cli_env: None,
    client: TestClient,
    setup: Setup,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = _person(client, setup)
    key_file = tmp_path / "keys" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_text("k" * 40 + "\n")
    out = tmp_path / "export"
    runner = CliRunner()
    missing = runner.invoke(app, ["export", "pseudonymised", "--out", str(out)])
    assert missing.exit_code == 1 and "PSEUDONYM_KEY" in missing.output
    inside = out / "pseudonym.key"
    out.mkdir()
    inside.write_text("k" * 40)
    refused = runner.invoke(
        app, ["export", "pseudonymised", "--out", str(out), "--key-file", str(inside)]
    )
    assert refused.exit_code == 1 and "apart" in refused.output
    inside.unlink()
    done = runner.invoke(
        app, ["export", "pseudonymised", "--out", str(out), "--key-file", str(key_file)]
    )
    assert done.exit_code == 0, done.output
    persons = list(csv.DictReader((out / "persons.csv").open()))
    enrolments = list(csv.DictReader((out / "enrolments.csv").open()))
    expected = hmac.new(b"k" * 40, person.encode(), hashlib.sha256).hexdigest()[:32]
    assert [p["pseudonym"] for p in persons] == [expected]
    assert persons[0]["birth_year"] == "1940" and persons[0]["region"] == "1084"
    assert {e["programme"] for e in enrolments} == {"SEL85", "SEL104"}
    assert {e["pseudonym"] for e in enrolments} == {expected}
    text_out = (out / "persons.csv").read_text() + (out / "enrolments.csv").read_text()
    for identity in (person, NATIONAL_ID, "Britta", "Paulsen", "1940-05-07", "SEL85-1"):
        assert identity not in text_out
    assert not any(path.name.endswith(".key") for path in out.iterdir())
    # the same key gives the same pseudonyms (linkable across exports); another key does not
    monkeypatch.setenv("REGISTRY_PSEUDONYM_KEY", "z" * 40)
    from registry.core.settings import get_settings

    get_settings.cache_clear()
    other = tmp_path / "other"
    assert runner.invoke(app, ["export", "pseudonymised", "--out", str(other)]).exit_code == 0
    assert expected not in (other / "persons.csv").read_text()
