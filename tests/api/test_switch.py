"""System switches: a programme's records re-keyed to a new MIS's ids, keeping their history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.api.test_dry_run import snapshot
from tests.factories import bearer, push, record

URL = "/api/v1/programmes/SEL85/switches"


def switch(
    client: TestClient, token: str, keys: list[tuple[str, str]], url: str = URL, **extra: Any
) -> Any:
    body = {
        "switch_date": "2026-03-01",
        "keys": [{"old_source_id": o, "new_source_id": n} for o, n in keys],
        **extra,
    }
    return client.post(url, json=body, headers=bearer(token))


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def people(n: int) -> list[dict[str, Any]]:
    """n distinct persons of SEL85 (no national ID, distinct names and birth dates)."""
    return [
        record(
            f"OLD-{i}",
            national_id=None,
            given_name=f"Person{i}",
            family_name=f"Family{i}",
            birth_date=f"19{50 + i:02d}-0{1 + i % 9}-1{i % 9}",
            mother_name=None,
            enrolment={"start_date": (date(2024, 1, 10) + timedelta(days=i)).isoformat()},
        )
        for i in range(n)
    ]


def renamed(records: list[dict[str, Any]], prefix: str = "NEW-") -> list[dict[str, Any]]:
    return [{**r, "source_id": r["source_id"].replace("OLD-", prefix)} for r in records]


def test_records_keep_their_history_under_the_new_ids_and_no_enrolment_is_doubled(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    old = people(3)
    first = push(client, setup.sel85, "SEL85", "old-1", old).json()
    changed = {**old[0], "enrolment": {**old[0]["enrolment"], "amount": 2100.0}}
    push(client, setup.sel85, "SEL85", "old-2", [changed])

    answer = switch(
        client, setup.sel85, [(r["source_id"], r["source_id"].replace("OLD", "NEW")) for r in old]
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["programme"], body["switch_date"], body["rows"], body["rekeyed"]) == (
        "SEL85",
        "2026-03-01",
        3,
        3,
    )
    assert body["declared_by"].startswith("client:") and body["channel"] == "json"

    held = client.get("/api/v1/programmes/SEL85/records/NEW-0", headers=bearer(setup.sel85))
    assert held.status_code == 200
    assert [v["version"] for v in held.json()["versions"]] == [1, 2]
    assert held.json()["person_id"] == first["results"][0]["person_id"]
    gone = client.get("/api/v1/programmes/SEL85/records/OLD-0", headers=bearer(setup.sel85))
    assert gone.status_code == 404

    # the new MIS sends its records under the new ids: the same records, the same persons
    resent = push(client, setup.sel85, "SEL85", "new-1", renamed([changed, *old[1:]])).json()
    assert [r["status"] for r in resent["results"]] == ["linked"] * 3
    assert [r["person_id"] for r in resent["results"]] == [r["person_id"] for r in first["results"]]
    current = rows(
        engine,
        "SELECT r.source_id FROM enrolment e JOIN source_record r ON r.id = e.source_record_id "
        "WHERE e.superseded_at IS NULL ORDER BY 1",
    )
    assert [r.source_id for r in current] == ["NEW-0", "NEW-1", "NEW-2"]
    assert rows(engine, "SELECT count(*) FROM source_record")[0][0] == 3

    stored = rows(
        engine,
        "SELECT old_source_id, new_source_id FROM system_switch_key ORDER BY 1",
    )
    assert [tuple(r) for r in stored] == [
        ("OLD-0", "NEW-0"),
        ("OLD-1", "NEW-1"),
        ("OLD-2", "NEW-2"),
    ]
    audit = rows(engine, "SELECT detail FROM audit_event WHERE action = 'programme.switch'")
    assert len(audit) == 1 and audit[0].detail["rekeyed"] == 3
    listed = client.get(URL, headers=bearer(setup.sel85)).json()
    assert [s["id"] for s in listed] == [body["id"]]


def test_without_a_switch_the_new_ids_would_double_every_enrolment(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    old = people(2)
    push(client, setup.sel85, "SEL85", "old-1", old)
    push(client, setup.sel85, "SEL85", "new-1", renamed(old))
    current = rows(engine, "SELECT count(*) FROM enrolment WHERE superseded_at IS NULL")
    assert current[0][0] == 4  # what the switch exists to prevent


def test_a_bad_map_is_refused_whole_naming_each_row_and_rule(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "old-1", people(4))
    before = snapshot(engine)
    keys = [
        ("OLD-0", "NEW-0"),  # fine, but the map is refused whole
        ("NOPE", "NEW-9"),  # unknown old id
        ("OLD-1", "NEW-X"),
        ("OLD-2", "NEW-X"),  # duplicate new id
        ("OLD-3", "OLD-0"),  # new id already a record
    ]
    refused = switch(client, setup.sel85, keys)
    assert refused.status_code == 422, refused.text
    found = {(e["row"], e["field"], e["code"]) for e in refused.json()["errors"]}
    assert found == {
        (2, "old_source_id", "unknown_old_id"),
        (3, "new_source_id", "duplicate_new_id"),
        (4, "new_source_id", "duplicate_new_id"),
        (5, "new_source_id", "new_id_in_use"),
    }
    assert "row 2" in refused.json()["detail"]
    same = switch(client, setup.sel85, [("OLD-0", "OLD-0"), ("OLD-1", "")])
    assert {(e["row"], e["code"]) for e in same.json()["errors"]} == {
        (1, "same_id"),
        (2, "required"),
    }
    doubled = switch(client, setup.sel85, [("OLD-0", "A"), ("OLD-0", "B")])
    assert {(e["row"], e["code"]) for e in doubled.json()["errors"]} == {
        (1, "duplicate_old_id"),
        (2, "duplicate_old_id"),
    }
    assert switch(client, setup.sel85, []).status_code == 422
    far = switch(client, setup.sel85, [("OLD-0", "N")], switch_date="2999-01-01")
    assert far.json()["errors"][0]["field"] == "switch_date"
    assert snapshot(engine) == before
    assert rows(engine, "SELECT count(*) FROM system_switch")[0][0] == 0


def test_a_csv_map_through_the_api_names_rows_by_line(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "old-1", people(2))
    bad = b"old_source_id;new_source_id\nOLD-0;NEW-0\nOLD-7;NEW-7\n"
    refused = client.post(
        f"{URL}/file",
        files={"file": ("rekey.csv", bad, "text/csv")},
        data={"switch_date": "2026-03-01"},
        headers=bearer(setup.sel85),
    )
    assert refused.status_code == 422
    assert [(e["row"], e["code"]) for e in refused.json()["errors"]] == [(3, "unknown_old_id")]
    good = b"old_source_id,new_source_id\r\nOLD-0,NEW-0\r\nOLD-1,NEW-1\r\n"
    answer = client.post(
        f"{URL}/file",
        files={"file": ("rekey.csv", good, "text/csv")},
        data={"switch_date": "2026-03-01"},
        headers=bearer(setup.sel85),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["channel"] == "csv" and len(answer.json()["file_sha256"]) == 64
    ids = rows(engine, "SELECT source_id FROM source_record ORDER BY 1")
    assert [r.source_id for r in ids] == ["NEW-0", "NEW-1"]
    header = client.post(
        f"{URL}/file",
        files={"file": ("rekey.csv", b"alt,neu\nA,B\n", "text/csv")},
        data={"switch_date": "2026-03-01"},
        headers=bearer(setup.sel85),
    )
    assert header.status_code == 422 and header.json()["errors"][0]["code"] == "invalid_header"


def test_only_an_admin_or_the_programmes_own_feed_may_switch_it(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "old-1", people(2))
    before = snapshot(engine)
    for token in (setup.sel104, setup.oversight, setup.steward_1084, setup.analyst):
        assert switch(client, token, [("OLD-0", "NEW-0")]).status_code == 403
        assert client.get(URL, headers=bearer(token)).status_code == 403
        refused = client.post(
            f"{URL}/file",
            files={"file": ("rekey.csv", b"old_source_id,new_source_id\nOLD-0,N\n", "text/csv")},
            data={"switch_date": "2026-03-01"},
            headers=bearer(token),
        )
        assert refused.status_code == 403
    assert snapshot(engine) == before
    assert switch(client, setup.admin, [("OLD-0", "NEW-0")]).status_code == 201
    declared_by = rows(engine, "SELECT declared_by FROM system_switch")[0][0]
    assert declared_by.startswith("user:")  # the admin, by user id


def test_the_quality_report_shows_the_switch_as_a_declared_break_not_a_spike(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    old = people(24)
    push(client, setup.sel85, "SEL85", "old-1", old)
    # the new MIS restarts every case on its first day: 12 episodes now start on 2026-03-01
    restarted = [
        {**r, "enrolment": {**r["enrolment"], "start_date": "2026-03-01"}} for r in old[:12]
    ]

    def spikes() -> dict[str, Any]:
        report = client.get(
            "/api/v1/programmes/SEL85/quality",
            params={"from": "2024-01-01", "to": "2026-12-31"},
            headers=bearer(setup.sel85),
        )
        assert report.status_code == 200, report.text
        return dict(report.json()["data_breaks"])

    assert (
        switch(
            client,
            setup.sel85,
            [(r["source_id"], r["source_id"].replace("OLD", "NEW")) for r in old],
        ).status_code
        == 201
    )
    push(client, setup.sel85, "SEL85", "new-1", renamed(restarted))
    breaks = spikes()
    assert [s["start_date"] for s in breaks["start_date_spikes"]] == []
    [declared] = breaks["declared_breaks"]
    assert (declared["kind"], declared["date"], declared["rekeyed"]) == (
        "system_switch",
        "2026-03-01",
        24,
    )
    assert [s["start_date"] for s in declared["start_date_spikes"]] == ["2026-03-01"]
    assert declared["start_date_spikes"][0]["enrolments"] == 12
