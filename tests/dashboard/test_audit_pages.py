"""The auditor's pages over HTTP: the trail by user name, person, action, purpose and dates;
who accessed a person; the chain's status and a verification on demand; Danish CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from registry.cli.main import app as cli
from tests.dashboard.conftest import World
from tests.factories import bearer

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}


def steward_reads(client: TestClient, world: World, purpose: str) -> str:
    """The steward (region 1084) reads person 0 of SEL85 through the API, stating a purpose."""
    person = client.get(
        "/api/v1/programmes/SEL85/records/A0", headers=bearer(world.setup.sel85)
    ).json()["person_id"]
    read = client.get(
        f"/api/v1/persons/{person}",
        headers={**bearer(world.setup.steward_1084), "X-Purpose": purpose},
    )
    assert read.status_code == 200, read.text
    return str(person)


def rows(html: str) -> list[dict[str, str]]:
    """The trail table's rows: action, purpose and the actor's name."""
    found = []
    for row in re.findall(r'<tr class="event".*?</tr>', html, re.S):
        action = re.search(r'class="text action">([^<]*)<', row)
        purpose = re.search(r'class="text purpose">([^<]*)<', row)
        name = re.search(r'class="actor-name">([^<]*)<', row)
        found.append(
            {
                "action": action.group(1) if action else "",
                "purpose": purpose.group(1) if purpose else "",
                "actor": name.group(1) if name else "",
            }
        )
    return found


def test_the_auditor_finds_the_stewards_read_by_name_and_person(
    client: TestClient, world: World, engine: Engine
) -> None:
    person = steward_reads(client, world, "case 4711: benefit check")
    auditor = {**bearer(world.auditor), **HTML}
    page = client.get(
        "/dashboard/audit", params={"user": "steward", "person_id": person}, headers=auditor
    )
    assert page.status_code == 200, page.text
    shown = rows(page.text)
    assert {"action": "person.read", "purpose": "case 4711: benefit check", "actor": "steward"} in (
        shown
    )
    assert all(r["actor"] == "steward" for r in shown)
    # by action and purpose (any case, part of it) and today's date range
    today = client.get("/dashboard/audit", headers=auditor).text
    assert "person.read" in today
    narrowed = client.get(
        "/dashboard/audit",
        params={"action": "person.read", "purpose": "CASE 4711", "from": "2000-01-01"},
        headers=auditor,
    )
    assert [r["actor"] for r in rows(narrowed.text)] == ["steward"]
    none = client.get("/dashboard/audit", params={"purpose": "case 9999"}, headers=auditor)
    assert rows(none.text) == [] and 'id="no-events"' in none.text
    # the auditor's own reads are audited, naming the person shown
    with engine.connect() as conn:
        reads = conn.execute(
            text(
                "SELECT person_ids, detail FROM audit_event WHERE action = 'audit.read' ORDER BY id"
            )
        ).all()
    assert reads[0].detail["view"] == "events" and reads[0].detail["via"] == "dashboard"
    assert reads[0].detail["filters"] == {"user": "steward", "person_id": person}
    assert person in reads[0].person_ids


def test_who_accessed_a_person_names_the_steward(client: TestClient, world: World) -> None:
    person = steward_reads(client, world, "case 4711")
    page = client.get(
        "/dashboard/audit/accesses",
        params={"person_id": person, "lang": "da"},
        headers={**bearer(world.auditor), **HTML},
    )
    assert page.status_code == 200
    assert "Hvem har set en person" in page.text
    access = re.search(r'<tr class="access">.*?</tr>', page.text, re.S)
    assert access and ">steward<" in access.group(0) and "person.read" in access.group(0)
    assert "case 4711" in access.group(0)


def test_bad_filters_name_the_field_and_rule_in_the_pages_language(
    client: TestClient, world: World
) -> None:
    auditor = {**bearer(world.auditor), **HTML}
    page = client.get(
        "/dashboard/audit",
        params={
            "user": "nobody-here",
            "person_id": "x",
            "from": "2024-05-02",
            "to": "2024-05-01",
            "lang": "da",
        },
        headers=auditor,
    )
    assert page.status_code == 422
    rules = dict(re.findall(r'data-field="([^"]+)" data-rule="([^"]+)"', page.text))
    assert rules == {"user": "unknown_user", "person_id": "person_id", "to": "date_order"}
    assert "ingen bruger eller klient har det navn" in page.text
    bad_date = client.get("/dashboard/audit", params={"from": "01-05-2024"}, headers=auditor)
    assert bad_date.status_code == 422 and 'data-rule="date"' in bad_date.text


def test_the_trail_pages_with_a_cursor(client: TestClient, world: World) -> None:
    auditor = {**bearer(world.auditor), **HTML}
    for _ in range(50):  # each view of the chain's page is an audited read: an event each
        client.get("/dashboard/audit/chain", headers=auditor)
    first = client.get("/dashboard/audit", headers=auditor).text
    older = re.search(r'id="older" href="([^"]+)"', first)
    assert older, "a second page"
    second = client.get(older.group(1).replace("&amp;", "&"), headers=auditor).text
    ids = lambda html: [int(i) for i in re.findall(r'<tr class="event"[^>]*>\s*<td>(\d+)<', html)]  # noqa: E731
    assert len(ids(first)) == 50 and ids(second) and max(ids(second)) < min(ids(first))


def test_csv_is_danish_excel_csv_on_a_danish_page_and_formulas_are_defused(
    client: TestClient, world: World
) -> None:
    steward_reads(client, world, '=HYPERLINK("http://evil")')
    auditor = bearer(world.auditor)
    danish = client.get(
        "/dashboard/audit",
        params={"user": "steward", "format": "csv", "lang": "da"},
        headers=auditor,
    )
    assert danish.status_code == 200 and danish.headers["content-type"].startswith("text/csv")
    body = danish.content.decode("utf-8")
    assert body.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert table and {r["actor_name"] for r in table} == {"steward"}
    assert table[0]["purpose"] == '\'=HYPERLINK("http://evil")'
    english = client.get(
        "/dashboard/audit", params={"user": "steward", "format": "csv"}, headers=auditor
    ).text
    assert not english.startswith("\ufeff") and english.startswith("id,occurred_at,actor,")


def test_the_chain_is_verified_on_demand_and_the_outcome_kept(
    client: TestClient, world: World, engine: Engine
) -> None:
    auditor = {**bearer(world.auditor), **HTML}
    before = client.get("/dashboard/audit/chain", headers=auditor)
    assert before.status_code == 200 and 'id="never-verified"' in before.text
    ran = client.post("/dashboard/audit/verify", headers=auditor, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"].startswith("/dashboard/audit/chain")
    after = client.get("/dashboard/audit/chain", headers=auditor).text
    assert 'id="chain-state" class="ok"' in after
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT outcome, detail FROM audit_event WHERE action = 'audit.verify'")
        ).one()
    assert kept.outcome == "ok" and kept.detail["ok"] is True
    assert re.search(rf'id="events-checked">{kept.detail["events_checked"]}<', after)


@pytest.fixture
def anchor_file(tmp_path: Path, cli_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    from registry.core.settings import get_settings

    monkeypatch.setenv("REGISTRY_AUDIT_ANCHOR_KEY", "test-anchor-key-" + "z" * 32)
    get_settings.cache_clear()
    return tmp_path / "anchors.jsonl"


def test_the_last_kept_anchor_shows_and_whether_the_chain_holds_it(
    client: TestClient, world: World, anchor_file: Path, engine: Engine
) -> None:
    result = CliRunner().invoke(cli, ["audit", "anchor", "--out", str(anchor_file)])
    assert result.exit_code == 0, result.output
    head = result.output.split()[0]
    page = client.get("/dashboard/audit/chain", headers={**bearer(world.auditor), **HTML}).text
    assert f'id="anchor-hash" class="hash">{head}<' in page
    assert 'id="anchor-in-chain" class="ok"' in page
    # the anchor is noted beside the chain, not in it: anchoring does not lengthen the chain
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_anchor")).scalar_one() == 1
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_event WHERE action LIKE 'audit.anchor%'")
            ).scalar_one()
            == 0
        )
