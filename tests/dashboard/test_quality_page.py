"""The feed quality page: errors apart from warnings, translated, drill-down audited, first load."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.overview.quality import _first_load
from tests.dashboard.conftest import World, _enrol
from tests.dashboard.test_pages import HTML
from tests.factories import bearer

FUTURE = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()


def send(client: TestClient, token: str, programme: str, batch: str, records: list[Any]) -> Any:
    response = client.post(
        f"/api/v1/programmes/{programme}/batches",
        json={"batch_id": batch, "records": records},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


def with_problems(client: TestClient, world: World) -> None:
    """SEL85 batch q1: one record rejected (bad benefit code), two accepted with warnings."""
    bad = _enrol("E1", 20, "9.9.9", "2024-01-01", "1084")
    future = _enrol("W1", 21, "1.12.0.2", "2024-01-01", "1084")
    future["enrolment"]["end_date"] = FUTURE
    future_too = _enrol("W2", 22, "1.12.0.2", "2024-01-01", "1085")
    future_too["enrolment"]["end_date"] = FUTURE
    body = send(client, world.setup.sel85, "SEL85", "q1", [bad, future, future_too])
    assert body["rejected"] == 1


def rows(html: str) -> dict[str, tuple[str, str, str]]:
    """The errors table: category → (label, errors, warnings)."""
    found = re.findall(
        r'<tr data-category="([^"]+)"><th scope="row">([^<]+)</th>\s*'
        r'<td class="errors">(\d+)</td><td class="warnings">(\d+)</td>',
        html,
    )
    return {c: (label, e, w) for c, label, e, w in found}


def test_errors_and_warnings_apart_and_translated(client: TestClient, world: World) -> None:
    with_problems(client, world)
    token = {**bearer(world.setup.oversight), **HTML}
    english = client.get("/dashboard/quality?programme=SEL85", headers=token).text
    assert rows(english)["invalid_benefit_code"] == ("Invalid benefit code", "1", "0")
    assert rows(english)["future_end_date"] == ("End date in the future", "0", "2")
    assert "missing_start_date" not in rows(english)  # empty categories are left out
    danish = client.get("/dashboard/quality?programme=SEL85&lang=da", headers=token).text
    assert rows(danish)["invalid_benefit_code"] == ("Ugyldig ydelseskode", "1", "0")
    assert rows(danish)["future_end_date"] == ("Slutdato i fremtiden", "0", "2")
    # the API carries the split too
    api = client.get("/api/v1/programmes/SEL85/quality", headers=bearer(world.setup.oversight))
    future = api.json()["errors"]["future_end_date"]
    assert (future["count"], future["errors"], future["warnings"]) == (2, 0, 2)


def test_the_drill_down_shows_records_and_audits_exactly_their_persons(
    client: TestClient, world: World, engine: Engine
) -> None:
    with_problems(client, world)
    token = {**bearer(world.setup.oversight), **HTML}
    report = client.get("/dashboard/quality?programme=SEL85", headers=token)
    assert 'id="drill-future_end_date"' in report.text
    page = client.get(
        "/dashboard/quality?programme=SEL85&category=future_end_date&lang=da", headers=token
    ).text
    shown = re.findall(
        r'<tr class="warning" data-severity="warning"><th scope="row">(\w+)</th>', page
    )
    assert sorted(shown) == ["W1", "W2"]
    assert "Advarsel:</span> slutdato i fremtiden" in page
    assert 'id="back-to-report"' in page
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT detail, person_ids FROM audit_event WHERE action = 'dashboard.view' "
                "ORDER BY id"
            )
        ).all()
        holders = (
            conn.execute(
                text(
                    "SELECT CAST(person_id AS text) FROM source_record "
                    "WHERE source_id IN ('W1', 'W2') ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
    (report_detail, report_persons), (drill_detail, drill_persons) = events[-2:]
    assert report_detail["category"] is None and list(report_persons) == []
    assert drill_detail["category"] == "future_end_date"
    assert sorted(str(p) for p in drill_persons) == sorted(holders) and len(holders) == 2
    # a rejected record has no person: its drill-down names nobody
    client.get("/dashboard/quality?programme=SEL85&category=invalid_benefit_code", headers=token)
    with engine.connect() as conn:
        last = conn.execute(
            text("SELECT person_ids FROM audit_event ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    assert list(last) == []


def test_the_first_load_is_no_jump(client: TestClient, world: World) -> None:
    # SEL104's caseload arrives in three chunks back to back: 12 (the world's b1), +20, +40
    more = [_enrol(f"L{i}", 30 + i, "1.1", "2024-01-01", "1085") for i in range(60)]
    send(client, world.setup.sel104, "SEL104", "b2", more[:20])
    send(client, world.setup.sel104, "SEL104", "b3", more[20:])
    api = client.get("/api/v1/programmes/SEL104/quality", headers=bearer(world.setup.oversight))
    jumps = api.json()["data_breaks"]["active_count_jumps"]
    assert [(j["batch_id"], j["first_load"]) for j in jumps] == [("b2", True), ("b3", True)]
    for lang, none in (("en", "None found."), ("da", "Ingen fundet.")):
        page = client.get(
            f"/dashboard/quality?programme=SEL104&lang={lang}",
            headers={**bearer(world.setup.oversight), **HTML},
        ).text
        assert 'id="jumps"' not in page
        assert f'<p id="no-jumps">{none}</p>' in page
        assert 'id="first-load"' in page


def test_the_first_load_ends_at_the_first_pause() -> None:
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    batches = [
        ("a", start, True),
        ("b", start + timedelta(minutes=5), False),
        ("c", start + timedelta(minutes=50), False),
        ("d", start + timedelta(days=1), False),
        ("e", start + timedelta(days=1, minutes=1), False),
    ]
    assert _first_load(batches) == {"a", "b", "c"}
    # the programme's first batch is not in the window: no first load to mark
    assert _first_load([(b, t, False) for b, t, _ in batches]) == set()


def test_empty_states(client: TestClient, world: World) -> None:
    token = {**bearer(world.setup.oversight), **HTML}
    choose = client.get("/dashboard/quality?lang=da", headers=token).text
    assert 'id="choose-text"' in choose and "Vælg en ordning for at se" in choose
    quiet = client.get("/dashboard/quality?programme=SEL82", headers=token).text
    assert 'id="no-problems"' in quiet and 'id="errors-table"' not in quiet
    created = client.post(
        "/api/v1/programmes",
        json={"code": "SEL999", "name": "Empty", "benefit_codes": ["1.1"]},
        headers=bearer(world.setup.admin),
    )
    assert created.status_code in (200, 201), created.text
    empty = client.get("/dashboard/quality?programme=SEL999&lang=da", headers=token).text
    assert 'id="no-batches"' in empty and 'id="no-recipients"' in empty
    assert 'id="batches-table"' not in empty


def test_the_danish_csv_opens_in_danish_excel(client: TestClient, world: World) -> None:
    token = bearer(world.setup.oversight)
    english = client.get("/dashboard/quality?programme=SEL85&format=csv", headers=token)
    danish = client.get("/dashboard/quality?programme=SEL85&format=csv&lang=da", headers=token)
    assert not english.content.startswith(b"\xef\xbb\xbf")
    assert danish.content.startswith(b"\xef\xbb\xbf")
    first = danish.content.decode("utf-8-sig").splitlines()[0]
    assert first == english.text.splitlines()[0].replace(",", ";")
