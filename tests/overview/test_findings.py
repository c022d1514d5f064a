"""Quality findings: statuses contradicting their dates, unknown statuses, minors in adult
benefits — counted per programme, with a sample of source ids for the report's readers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup
from tests.factories import bearer, record
from tests.overview.conftest import push

DAY = "2024-06-30"


def enrolled(source_id: str, i: int, born: str = "", **enrolment: Any) -> dict[str, Any]:
    """A SEL85 record of person i (a CPR number that fits the birth date), enrolled so."""
    born = born or f"1980-01-{i:02d}"
    year, month, day = born.split("-")
    serial = (4000 if year >= "2000" else 1000) + i
    return record(
        source_id,
        national_id=f"{day}{month}{year[2:]}{serial:04d}",
        birth_date=born,
        enrolment={"benefit_code": "1.12.0.2", "target_group": "1.2.2", **enrolment},
    )


@pytest.fixture
def flagged(client: TestClient, setup: Setup, engine: Engine) -> Setup:
    """One SEL85 record per rule, and one clean record."""
    push(
        client,
        setup.sel85,
        "SEL85",
        "f1",
        [
            enrolled("F1", 1, status="ended", start_date="2024-01-01", end_date=None),
            enrolled("F2", 2, status="active", start_date="2024-01-01", end_date="2024-01-31"),
            enrolled("F3", 3, status="pending", start_date="2024-01-01", end_date=None),
            enrolled("F4", 4, status="active", start_date="2024-01-01", end_date=None),
            enrolled("F5", 5, born="2010-04-04", status="active", start_date="2024-06-01"),
            enrolled("F6", 6, status="ended", start_date="2024-01-01", end_date="2024-12-31"),
            enrolled("F7", 7, status="active", start_date="2024-01-01", end_date=None),
            enrolled("F8", 8, status="active", start_date="2024-09-01", end_date=None),
            # 18 on the start date: an adult
            enrolled("F9", 9, born="2006-06-01", status="active", start_date="2024-06-01"),
        ],
    )
    # ingest refuses a status outside the vocabulary; rows from before that rule may hold one
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE enrolment SET status = 'exited' WHERE source_record_id ="
                " (SELECT id FROM source_record WHERE source_id = 'F4')"
            )
        )
    return setup


def report(client: TestClient, token: str, code: str = "SEL85", **params: Any) -> Any:
    response = client.get(
        f"/api/v1/programmes/{code}/quality",
        params={"from": "2024-01-01", "to": DAY, **params},
        headers=bearer(token),
    )
    return response


def test_each_contradiction_is_a_finding_with_its_records(
    client: TestClient, flagged: Setup
) -> None:
    response = report(client, flagged.oversight)
    assert response.status_code == 200, response.text
    found = {f["code"]: (f["count"], f["source_ids"]) for f in response.json()["findings"]}
    assert found == {
        "ended_without_end_date": (1, ["F1"]),
        "ended_after_report_date": (1, ["F6"]),
        "active_with_past_end_date": (1, ["F2"]),
        "active_before_start": (1, ["F8"]),
        "pending_too_long": (1, ["F3"]),
        "unknown_status": (1, ["F4"]),
        "under_18_in_adult_benefit": (1, ["F5"]),
    }
    finding = response.json()["findings"][0]
    assert finding["programme"] == "SEL85" and finding["severity"] in ("error", "warning")
    assert finding["rule"]
    # the CSV form carries them too
    csv = client.get(
        "/api/v1/programmes/SEL85/quality",
        params={"from": "2024-01-01", "to": DAY},
        headers={**bearer(flagged.oversight), "Accept": "text/csv"},
    ).text
    assert any(line.startswith("finding,") and "F5" in line for line in csv.splitlines())


def test_the_feed_reads_its_own_findings_not_another_programmes(
    client: TestClient, flagged: Setup
) -> None:
    own = report(client, flagged.sel85)
    assert own.status_code == 200
    assert {f["code"] for f in own.json()["findings"] if f["count"]} >= {"unknown_status"}
    other = report(client, flagged.sel104)
    assert other.status_code == 403
    empty = report(client, flagged.sel104, code="SEL104")
    assert empty.status_code == 200
    assert all(f["count"] == 0 and f["source_ids"] == [] for f in empty.json()["findings"])
    assert report(client, flagged.analyst).status_code == 403


def test_a_suppressed_report_names_no_record_and_hides_small_counts(
    client: TestClient, flagged: Setup
) -> None:
    body = report(client, flagged.oversight, suppress="true").json()
    assert all(f["source_ids"] is None for f in body["findings"])
    assert all(f["count"] in (None, 0) for f in body["findings"])


def test_findings_follow_the_report_date(client: TestClient, flagged: Setup) -> None:
    early = report(client, flagged.oversight, to="2024-02-15").json()
    found = {f["code"]: f["count"] for f in early["findings"]}
    # on 15 Feb F2's end date is past; F3 has been pending 45 days only
    assert found["active_with_past_end_date"] == 1 and found["pending_too_long"] == 0
