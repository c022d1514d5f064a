"""The feed quality report: recipients per quarter, each error type, and the data-break detector."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, record


def person(i: int, **enrolment: Any) -> dict[str, Any]:
    """A valid SEL85 record for person i (distinct CPR), with enrolment overrides."""
    day = i % 28 + 1
    return record(
        f"Q{i}",
        national_id=f"{day:02d}0175{2000 + i:04d}",
        birth_date=f"1975-01-{day:02d}",
        sex="M" if i % 2 else "F",  # as the CPR's last digit says
        enrolment={"start_date": f"2023-{i % 12 + 1:02d}-{day:02d}", **enrolment},
    )


def push(client: TestClient, token: str, batch: str, records: list[Any]) -> Any:
    response = client.post(
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": batch, "records": records},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


def report(client: TestClient, token: str, status: int = 200, **params: Any) -> Any:
    response = client.get("/api/v1/programmes/SEL85/quality", params=params, headers=bearer(token))
    assert response.status_code == status, response.text
    return response.json()


FUTURE = (date.today() + timedelta(days=400)).isoformat()


def test_each_error_type_is_listed(client: TestClient, setup: Setup) -> None:
    bad = [
        person(1, benefit_code="9.9.9"),  # not in L402
        person(2, benefit_code="1.1"),  # L402, not granted by SEL85
        person(3, target_group="9.9"),  # invalid target group
        person(4, start_date=None),  # missing start date
        person(5, start_date="2023-02-30"),  # invalid start date
        person(6, start_date="2023-05-01", end_date="2023-04-30"),  # end before start
        person(7, end_date=FUTURE),  # accepted, warned: future end date
        person(8),  # fine
    ]
    answer = push(client, setup.sel85, "q1", bad)
    assert answer["rejected"] == 6
    body = report(client, setup.sel85)
    errors = body["errors"]
    assert {c: errors[c]["count"] for c in errors} == {
        "invalid_benefit_code": 2,
        "invalid_target_group": 1,
        "missing_start_date": 1,
        "invalid_start_date": 1,
        "end_before_start": 1,
        "future_end_date": 1,
        "sex_mismatch": 0,
        "legal_basis_mismatch": 0,
        "other": 0,
    }
    assert {i["code"] for i in errors["invalid_benefit_code"]["items"]} == {
        "invalid_benefit_code",
        "benefit_not_in_programme",
    }
    assert errors["end_before_start"]["items"][0]["source_id"] == "Q6"
    assert errors["future_end_date"]["items"][0]["severity"] == "warning"
    assert errors["missing_start_date"]["items"][0]["batch_id"] == "q1"
    # two accepted records (Q7, Q8), both 1.12.0.2, Q7 from 2023-08-08, Q8 from 2023-09-09
    quarters = {
        q["quarter"]: q["recipients"]
        for q in report(client, setup.sel85, **{"from": "2023-01-01"})["quarters"]
    }
    assert quarters["2023Q3"] == {"1.12.0.2": 2}
    assert "2023Q2" not in quarters
    per_category = report(client, setup.sel85, per_category=1)["errors"]["invalid_benefit_code"]
    assert per_category["count"] == 2 and len(per_category["items"]) == 1
    # the window is on the batch's receipt: a window before today lists nothing
    old = report(client, setup.sel85, **{"from": "2020-01-01", "to": "2020-12-31"})
    assert all(e["count"] == 0 for e in old["errors"].values())


def test_start_date_spike_is_detected(client: TestClient, setup: Setup) -> None:
    normal = [person(i, start_date=f"2022-{i % 12 + 1:02d}-{i % 27 + 1:02d}") for i in range(20)]
    switch = [person(100 + i, start_date="2021-03-01") for i in range(12)]
    push(client, setup.sel85, "s1", normal + switch)
    spikes = report(client, setup.sel85)["data_breaks"]["start_date_spikes"]
    assert spikes == [
        {"start_date": "2021-03-01", "enrolments": 12, "typical_day": 1.0, "share": 0.375}
    ]
    assert report(client, setup.sel85, spike_min=13)["data_breaks"]["start_date_spikes"] == []


def counts(body: Any) -> list[tuple[str, int, str]]:
    return [
        (c["batch_id"], c["active_persons"], c["source"])
        for c in body["data_breaks"]["batch_active_counts"]
    ]


def load_with_a_jump_and_a_drop(client: TestClient, setup: Setup) -> None:
    """b1: 20 persons; b2: +2; b3: +30 (jump); b4: 40 retracted (drop); b5: +1."""
    push(client, setup.sel85, "b1", [person(i) for i in range(20)])
    push(client, setup.sel85, "b2", [person(i) for i in range(20, 22)])
    push(client, setup.sel85, "b3", [person(i) for i in range(22, 52)])
    push(
        client,
        setup.sel85,
        "b4",
        [{"source_id": f"Q{i}", "retracted": True} for i in range(12, 52)],
    )
    push(client, setup.sel85, "b5", [person(60)])


def test_jump_and_drop_between_batches_from_system_time(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    load_with_a_jump_and_a_drop(client, setup)
    with engine.begin() as conn:  # batches from before ingest stored its counts
        conn.execute(text("DELETE FROM batch_active_count"))
    body = report(client, setup.sel85)
    assert counts(body) == [
        ("b1", 20, "system_time"),
        ("b2", 22, "system_time"),
        ("b3", 52, "system_time"),
        ("b4", 12, "system_time"),
        ("b5", 13, "system_time"),
    ]
    jumps = body["data_breaks"]["active_count_jumps"]
    assert [(j["batch_id"], j["kind"], j["before"], j["after"]) for j in jumps] == [
        ("b3", "jump", 22, 52),
        ("b4", "drop", 52, 12),
    ]
    # b2's +2 (10 %) is below both thresholds; a looser rule flags it too
    loose = report(client, setup.sel85, jump_ratio=0.05, jump_min=2)
    assert [j["batch_id"] for j in loose["data_breaks"]["active_count_jumps"]] == ["b2", "b3", "b4"]


def test_stored_batch_counts_agree_with_system_time(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    load_with_a_jump_and_a_drop(client, setup)
    body = report(client, setup.sel85)
    # stored after b1; the next batches, within a minute of it, are counted from system time
    assert counts(body) == [
        ("b1", 20, "stored"),
        ("b2", 22, "system_time"),
        ("b3", 52, "system_time"),
        ("b4", 12, "system_time"),
        ("b5", 13, "system_time"),
    ]
    assert [j["batch_id"] for j in body["data_breaks"]["active_count_jumps"]] == ["b3", "b4"]
    # once the last stored count is older than the interval, the next batch stores again
    with engine.begin() as conn:
        conn.execute(text("UPDATE batch_active_count SET taken_at = now() - interval '2 minutes'"))
    push(client, setup.sel85, "b6", [person(61)])
    assert counts(report(client, setup.sel85))[-1] == ("b6", 14, "stored")


def test_who_may_read_the_report(client: TestClient, setup: Setup) -> None:
    push(client, setup.sel85, "r1", [person(1)])
    for token in (setup.sel85, setup.steward_1084, setup.oversight):
        report(client, token)
    for token in (setup.sel104, setup.analyst, setup.admin):
        report(client, token, status=403)
    assert client.get("/api/v1/programmes/SEL85/quality").status_code == 401
    response = client.get(
        "/api/v1/programmes/SEL85/quality",
        params={"from": "2023-01-01"},
        headers={**bearer(setup.sel85), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert "recipients,2023Q1,1.12.0.2,1" in response.text.splitlines()[1]


def test_the_adult_area_checks_have_their_own_categories(client: TestClient, setup: Setup) -> None:
    wrong_sex = person(21)
    wrong_sex["sex"] = "F"  # the CPR's last digit is odd: a man
    wrong_paragraph = person(22, legal_basis="§ 104")  # 1.12.0.2 is granted under § 85
    answer = push(client, setup.sel85, "adult", [wrong_sex, wrong_paragraph, person(23)])
    assert answer["accepted"] == 3  # warnings, not refusals
    errors = report(client, setup.sel85)["errors"]
    assert errors["sex_mismatch"]["count"] == 1
    assert errors["sex_mismatch"]["items"][0]["source_id"] == "Q21"
    assert errors["legal_basis_mismatch"]["count"] == 1
    assert errors["legal_basis_mismatch"]["items"][0]["source_id"] == "Q22"
    assert errors["other"]["count"] == 0
