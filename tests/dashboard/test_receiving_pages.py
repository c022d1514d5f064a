"""Receiving on the pages: suspended and pending beside the counts, the new breakdowns, the
quality findings and their drill-down (audited naming exactly the persons shown)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.conftest import LATE, World, _enrol
from tests.dashboard.test_overview_pages import api, get, page_cells
from tests.factories import bearer, record
from tests.overview.conftest import push

#: A minor (born 2010) and their record in SEL85: under 18 in an adult benefit.
MINOR = {"national_id": "0404104567", "birth_date": "2010-04-04", "sex": "M"}


def add_statuses(client: TestClient, world: World) -> None:
    """SEL85: 6 persons suspended (1084), 2 pending (1085), one ended without an end date,
    and a minor receiving an adult benefit."""
    records: list[dict[str, Any]] = []
    for i in range(40, 46):
        records.append(_enrol(f"S{i}", i, "1.12.0.2", "2024-01-01", "1084"))
        records[-1]["enrolment"]["status"] = "suspended"
    for i in range(50, 52):
        records.append(_enrol(f"P{i}", i, "1.12.0.2", "2024-01-01", "1085"))
        records[-1]["enrolment"]["status"] = "pending"
    ended = _enrol("X60", 60, "1.12.0.2", "2024-01-01", "1084")
    ended["enrolment"]["status"] = "ended"
    records.append(ended)
    records.append(
        record(
            "M1",
            **MINOR,
            region="1084",
            enrolment={"benefit_code": "1.12.0.2", "start_date": "2024-05-01", "end_date": None},
        )
    )
    push(client, world.setup.sel85, "SEL85", "statuses", records)


def test_coverage_shows_the_api_beside_counts(client: TestClient, world: World) -> None:
    add_statuses(client, world)
    token = world.setup.oversight
    html = get(client, token, "/dashboard/coverage", as_of=LATE, breakdown="municipality").text
    shown = page_cells(html)
    body = api(client, token, "coverage", as_of=LATE, by="programme")
    for row in body["rows"]:
        for measure in ("persons", "enrolments", "suspended", "pending"):
            assert shown[("programme", row["programme"], measure)] == str(row[measure])
    assert shown[("programme", "SEL85", "suspended")] == "6"
    assert shown[("programme", "SEL85", "pending")] == "2"
    assert shown[("", "", "pending")] == str(body["total"]["pending"])
    assert 'id="receiving-note"' in html
    assert "157 Gentofte" in html  # the municipality with its name
    groups = get(client, token, "/dashboard/coverage", as_of=LATE, breakdown="target_group")
    assert page_cells(groups.text)[("target_group", "1.2.2", "suspended")] == "6"
    trends = get(client, token, "/dashboard/trends", **{"from": "2024-06-01", "to": LATE}).text
    assert re.search(r'data-beside="SEL85\|suspended">6<', trends)
    assert re.search(r'data-beside="SEL85\|pending">2<', trends)


def test_analyst_sees_small_beside_counts_hidden(client: TestClient, world: World) -> None:
    add_statuses(client, world)
    html = get(client, world.setup.analyst, "/dashboard/coverage", as_of=LATE).text
    shown = page_cells(html)
    assert shown[("programme", "SEL85", "pending")] == ""  # 2 < 5
    assert shown[("programme", "SEL85", "suspended")] == "6"
    body = api(client, world.setup.analyst, "coverage", as_of=LATE, by="programme")
    assert {r["programme"]: r["pending"] for r in body["rows"]}["SEL85"] is None
    trends = get(
        client, world.setup.analyst, "/dashboard/trends", **{"from": "2024-06-01", "to": LATE}
    ).text
    assert not re.search(r'data-beside="SEL85\|pending">2<', trends)


def test_findings_and_their_drill_down_audited(
    client: TestClient, world: World, engine: Engine
) -> None:
    add_statuses(client, world)
    token = world.setup.oversight
    report = get(client, token, "/dashboard/quality", programme="SEL85").text
    assert 'data-finding="ended_without_end_date"' in report
    assert 'data-finding="under_18_in_adult_benefit"' in report
    assert "X60" not in report and "M1" not in report  # the report names no record
    danish = get(client, token, "/dashboard/quality", programme="SEL85", lang="da").text
    assert "Under 18 år i en ydelse til voksne" in danish
    page = get(
        client, token, "/dashboard/quality", programme="SEL85", finding="under_18_in_adult_benefit"
    ).text
    assert re.findall(r'<tr><th scope="row">(\w+)</th></tr>', page) == ["M1"]
    with engine.connect() as conn:
        detail, named = conn.execute(
            text(
                "SELECT detail, person_ids FROM audit_event WHERE action = 'dashboard.view'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).one()
        holder = conn.execute(
            text("SELECT CAST(person_id AS text) FROM source_record WHERE source_id = 'M1'")
        ).scalar_one()
    assert detail["finding"] == "under_18_in_adult_benefit"
    assert [str(p) for p in named] == [holder]
    bad = client.get(
        "/dashboard/quality",
        params={"programme": "SEL85", "finding": "everything"},
        headers={**bearer(token), "Accept": "text/html"},
    )
    assert bad.status_code == 422 and "finding" in bad.text
    # the API's report names the finding's persons in its audit event too
    client.get("/api/v1/programmes/SEL85/quality", headers=bearer(token))
    with engine.connect() as conn:
        named_api = conn.execute(
            text("SELECT person_ids FROM audit_event ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    assert holder in {str(p) for p in named_api}
