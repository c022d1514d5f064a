"""The oversight pages' repairs over HTTP (issue 24): names, numbers, breakdowns, home figures,
reconciliation upload, the duplicates drill-down and its audit, Danish CSV, long trends.

The world (tests/dashboard/conftest.py): SEL85 persons 0-11 (0-5 in region 1084, 6-11 in
1085), SEL104 persons 0-11 (region 1085), SEL82 persons 0-1 (1084); SEL85 and SEL104 are
marked exclusive, so persons 0-11 are all in both of the pair on 2024-07-01.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.dashboard.format import excel_csv, format_datetime, number, region_label
from registry.access.principal import Principal
from registry.codelists.loader import municipalities, municipality_name, regions
from registry.core.db import transaction
from registry.overview.drilldown import duplicate_persons
from registry.overview.headline import chain_head
from tests.dashboard.conftest import LATE, World, add_reviews
from tests.dashboard.test_pages import sign_in
from tests.factories import bearer, make_user, user_token
from tests.hostile.test_suppressed_cell_recovery import determined

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}
AUDITOR = Principal("user:a", "a", frozenset({"auditor"}), frozenset({"*"}))
OVERSIGHT = Principal("user:o", "o", frozenset({"oversight"}), frozenset({"*"}))
PERSON_ID = re.compile(r'data-person="([0-9a-f-]{36})"')


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={**bearer(token), **HTML})
    assert response.status_code == 200, response.text
    return response


def api(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def events(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT actor, purpose, detail, person_ids FROM audit_event"
                    " WHERE action = :action ORDER BY id"
                ),
                {"action": action},
            )
        )


# ------------------------------------------------------------------ formatting, unit level


def test_numbers_dates_codes_and_csv_follow_the_language() -> None:
    assert number(7399, "da") == "7.399" and number(7399, "en") == "7,399"
    assert number(1234567, "da") == "1.234.567" and number(3.25, "da", 2) == "3,25"
    assert number(None, "da") == "·"
    # summer and winter time in Copenhagen, whatever the server's zone
    assert format_datetime("2024-07-01T12:03:00+00:00", "da") == "1. jul. 2024 14:03"
    assert format_datetime("2024-01-15T12:03:00+00:00", "en") == "15 Jan 2024 13:03"
    assert region_label("1084", "da") == "1084 Region Hovedstaden"
    assert region_label("1084", "en") == "1084 Capital Region of Denmark"
    assert region_label("1086", "da") == "1086"  # unknown: the code alone
    danish = excel_csv('a,b\n-1,"x;y"\n\'=HYPERLINK(1),1.12.0.2\n', "da")
    assert danish.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(danish[1:]), delimiter=";")) == [
        ["a", "b"],
        ["-1", "x;y"],
        ["'=HYPERLINK(1)", "1.12.0.2"],
    ]
    assert excel_csv("a,b\n1,2\n", "en") == "a,b\n1,2\n"


def test_the_code_lists_hold_dst_regions_and_municipalities() -> None:
    assert sorted(regions()) == ["1081", "1082", "1083", "1084", "1085"]
    found = municipalities()
    assert len(found) == 98
    assert {m.region for m in found.values()} == set(regions())
    assert municipality_name("101") == "København" and municipality_name("0851") == "Aalborg"
    assert municipality_name("411") is None  # Christiansø is no municipality


# ------------------------------------------------------------------ names, numbers, breakdowns


def test_coverage_shows_names_beside_codes_in_both_languages(
    client: TestClient, world: World
) -> None:
    token = world.setup.oversight
    danish = get(client, token, "/dashboard/coverage", as_of=LATE, lang="da").text
    assert "1084 Region Hovedstaden" in danish and "1085 Region Sjælland" in danish
    assert '<span class="code">SEL85</span> <span class="name">Programme SEL85</span>' in danish
    assert "Aktivitets- og samværstilbud" in danish  # L402's name of benefit code 1.1
    english = get(client, token, "/dashboard/coverage", as_of=LATE, lang="en").text
    assert "1084 Capital Region of Denmark" in english
    assert "1. jul. 2024" in danish and "1 Jul 2024" in english


def page_cells(html: str) -> dict[tuple[str, str, str], str]:
    """Every count a coverage page shows: (by, key, measure) -> raw value ('' = suppressed)."""
    found = re.findall(r'data-cell="([^"|]*)\|([^"|]*)\|([^"|]*)" data-value="([^"]*)"', html)
    return {(by, key, measure): value for by, key, measure, value in found}


def api_cells(client: TestClient, token: str, by: list[str]) -> dict[tuple[str, str, str], str]:
    """The same cells from the API's answer by `by` (its total under the empty key)."""
    body = api(client, token, "coverage", as_of=LATE, by=",".join(by))
    cells: dict[tuple[str, str, str], str] = {}
    for row in body["rows"]:
        key = ",".join(row[d] or "" for d in by)
        for measure in ("persons", "enrolments"):
            value = row[measure]
            cells[(",".join(by), key, measure)] = "" if value is None else str(value)
    for measure in ("persons", "enrolments"):
        value = body["total"][measure]
        cells[("", "", measure)] = "" if value is None else str(value)
    return cells


def test_breakdown_and_region_filter_show_the_api_cells(client: TestClient, world: World) -> None:
    token = world.setup.oversight
    html = get(
        client, token, "/dashboard/coverage", as_of=LATE, breakdown="sex", region="1084"
    ).text
    shown = page_cells(html)
    # region 1084 on 2024-07-01: SEL85 persons 0-5 and SEL82 persons 0-1, all women
    assert shown[("sex,region", "F,1084", "persons")] == "6"
    assert shown[("programme,region", "SEL85,1084", "persons")] == "6"
    assert shown[("programme,region", "SEL82,1084", "persons")] == "2"
    assert shown[("region", "1084", "persons")] == "6"  # the region's total
    assert ("programme,region", "SEL104,1084", "enrolments") not in shown  # not in 1084
    assert 'id="coverage-breakdown"' in html and "Women" in html
    for by in (["sex", "region"], ["programme", "region"], ["region"]):
        theirs = api_cells(client, token, by)
        for cell, value in shown.items():
            if cell[0] == ",".join(by):
                assert theirs.get(cell, "0") == value, cell  # no row: nobody
    age = get(client, token, "/dashboard/coverage", as_of=LATE, breakdown="age_band").text
    assert page_cells(age)[("age_band", "30-49", "persons")] == "12"
    empty = get(client, token, "/dashboard/coverage", as_of="2020-01-01").text
    assert 'id="coverage-programme-empty"' in empty
    bad = client.get(
        "/dashboard/coverage",
        params={"breakdown": "income"},
        headers={**bearer(token), **HTML},
    )
    assert bad.status_code == 422 and "breakdown" in bad.text


def test_analyst_pages_publish_only_api_cells_and_no_hidden_count_follows(
    client: TestClient, world: World
) -> None:
    """Attack: every coverage page an analyst can open (each breakdown, each region filter),
    read together, pins no suppressed count: every figure is a cell of the API's answer for
    the same `by` (so its disclosure control applies), and no hidden small cell is the
    difference of figures shown (solved exactly over enrolments, which add up)."""
    token = world.setup.analyst
    shown: dict[tuple[str, str, str], str] = {}
    for breakdown in ("benefit_code", "sex", "age_band", "region", "programme"):
        for region in ("", "1084", "1085"):
            html = get(
                client,
                token,
                "/dashboard/coverage",
                as_of=LATE,
                breakdown=breakdown,
                region=region,
            ).text
            shown.update(page_cells(html))
    assert any(v == "" for v in shown.values())  # SEL82's 2 persons are hidden somewhere
    answers: dict[str, dict[tuple[str, str, str], str]] = {}
    for by, _, _ in shown:
        if by and by not in answers:
            answers[by] = api_cells(client, token, by.split(","))
    for (by, key, measure), value in shown.items():
        if by:
            assert answers[by].get((by, key, measure), "0") == value, (by, key, measure)
    # the unknowns: the finest cells (programme, benefit code, sex, age band, region)
    dims = ["programme", "benefit_code", "sex", "age_band", "region"]
    finest = api(client, world.setup.oversight, "coverage", as_of=LATE, by=",".join(dims))
    truth = {tuple(r[d] or "" for d in dims): r["enrolments"] for r in finest["rows"]}
    unknowns = list(truth)
    equations: list[set[Any]] = []
    secrets: list[set[Any]] = []
    for (by, key, measure), value in shown.items():
        if measure != "enrolments":
            continue
        parts = dict(zip(by.split(",") if by else [], key.split(",") if by else [], strict=True))
        members = {u for u in unknowns if all(u[dims.index(d)] == v for d, v in parts.items())}
        if value != "":
            equations.append(members)
        elif 0 < sum(truth[u] for u in members) < 5:
            secrets.append(members)
    assert secrets
    for members in secrets:
        assert not determined(unknowns, equations, members), members


# ------------------------------------------------------------------ home figures per role


def test_home_shows_each_role_its_figures(client: TestClient, world: World, engine: Engine) -> None:
    add_reviews(engine)
    tokens = {
        "oversight": world.setup.oversight,
        "analyst": world.setup.analyst,
        "steward": world.setup.steward_1084,
        "auditor": world.auditor,
        "admin": world.setup.admin,
    }
    expected = {
        "oversight": {"persons", "pending", "batches", "chain"},
        "analyst": {"persons"},
        "steward": {"pending", "batches"},
        "auditor": {"chain"},
        "admin": {"batches", "chain"},
    }
    ids = {
        "persons": 'id="figure-persons"',
        "pending": 'id="figure-pending"',
        "batches": 'id="home-batches"',
        "chain": 'id="figure-chain"',
    }
    for role, token in tokens.items():
        html = get(client, token, "/dashboard", lang="da").text
        shown = {name for name, marker in ids.items() if marker in html}
        assert shown == expected[role], role
    oversight = get(client, tokens["oversight"], "/dashboard").text
    with engine.connect() as conn:
        persons = conn.execute(
            text("SELECT count(*) FROM person WHERE merged_into IS NULL")
        ).scalar_one()
    assert persons >= 12
    assert re.search(rf'id="figure-persons">\s*{persons}\s*<', oversight)
    assert re.search(r'id="figure-pending">2<', oversight)
    assert re.search(r'id="figure-age">3\.0<', oversight)
    assert 'data-ok="true"' in oversight
    assert re.search(r'data-programme="SEL85">.*?<td>a1</td>', oversight, re.S)
    steward = get(client, tokens["steward"], "/dashboard").text
    assert re.search(r'id="figure-pending">1<', steward)  # the steward's own region only
    # the navigation shows what the role may open
    assert 'href="/dashboard/reconciliation' in oversight
    analyst = get(client, tokens["analyst"], "/dashboard").text
    assert 'href="/dashboard/reconciliation' not in analyst
    assert 'href="/dashboard/coverage' in analyst and 'href="/dashboard/review' not in analyst
    danish = get(client, tokens["oversight"], "/dashboard", lang="da").text
    assert "Seneste leverance pr. ordning" in danish and "dansk tid" in danish


def test_home_chain_status_sees_a_broken_head(
    client: TestClient, world: World, engine: Engine, superuser_engine: Engine
) -> None:
    get(client, world.auditor, "/dashboard")  # one more event at the head
    with transaction(superuser_engine) as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(
            text(
                "UPDATE audit_event SET actor = 'user:forged'"
                " WHERE id = (SELECT max(id) FROM audit_event)"
            )
        )
    with transaction(engine) as session:
        head = chain_head(session, AUDITOR)
    assert not head.ok and "does not match its content" in (head.problem or "")
    page = get(client, world.auditor, "/dashboard").text
    # the page's own view is the new head and links to the forged one by its stored hash,
    # so the status is about the newest link only: it says so
    assert 'id="figure-chain"' in page and "newest link only" in page


# ------------------------------------------------------------------ duplicates drill-down


def test_duplicates_page_names_nobody_and_the_drill_down_exactly_whom_it_shows(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = world.setup.oversight
    summary = get(client, token, "/dashboard/duplicates", as_of=LATE).text
    assert PERSON_ID.search(summary) is None
    assert "/dashboard/duplicates/persons?" in summary
    asked = get(
        client,
        token,
        "/dashboard/duplicates/persons",
        kind="exclusive",
        programme=["SEL85", "SEL104"],
        as_of=LATE,
    ).text
    assert 'id="purpose-form"' in asked and PERSON_ID.search(asked) is None
    listed = get(
        client,
        token,
        "/dashboard/duplicates/persons",
        kind="exclusive",
        programme=["SEL104", "SEL85"],
        as_of=LATE,
        purpose="control",
    ).text
    shown = set(PERSON_ID.findall(listed))
    assert len(shown) == 12
    views = [
        e for e in events(engine, "dashboard.view") if e.detail["page"].startswith("duplicates")
    ]
    assert [e.detail["page"] for e in views] == ["duplicates", "duplicates.persons"]
    assert views[0].person_ids == []
    assert set(views[1].person_ids) == shown and views[1].purpose == "control"
    # analysts never get the list; a bad kind or programme count is a page naming the field
    analyst = client.get(
        "/dashboard/duplicates/persons",
        params={"kind": "double", "programme": "SEL85", "purpose": "control"},
        headers={**bearer(world.setup.analyst), **HTML},
    )
    assert analyst.status_code == 403 and PERSON_ID.search(analyst.text) is None
    bad = client.get(
        "/dashboard/duplicates/persons",
        params={"kind": "exclusive", "programme": "SEL85", "purpose": "control"},
        headers={**bearer(token), **HTML},
    )
    assert bad.status_code == 422 and "programme" in bad.text


def test_drill_down_of_another_region_names_only_the_callers_persons(
    client: TestClient, world: World, engine: Engine
) -> None:
    """Attack: oversight of region 1084 opens the pair's list: only persons with a record in
    1084 (0-5) are shown and named; 6-11 (1085 only) appear nowhere."""
    make_user(engine, "oversight_1084", ["oversight"], ["1084"])
    token = user_token(client, "oversight_1084")
    listed = get(
        client,
        token,
        "/dashboard/duplicates/persons",
        kind="exclusive",
        programme=["SEL85", "SEL104"],
        as_of=LATE,
        purpose="supervision",
    ).text
    shown = set(PERSON_ID.findall(listed))
    everyone = {
        p["person_id"]
        for p in api(client, world.setup.oversight, "duplicates", as_of=LATE)["exclusive"][
            "persons"
        ]
    }
    assert len(shown) == 6 and shown < everyone
    named = [set(e.person_ids) for e in events(engine, "dashboard.view") if e.person_ids]
    assert named == [shown]


def test_the_drill_down_pages_cover_every_person_once(world: World, engine: Engine) -> None:
    oversight = OVERSIGHT

    seen: list[str] = []
    with transaction(engine) as session:
        first = duplicate_persons(
            session, oversight, date(2024, 7, 1), "exclusive", ["SEL85", "SEL104"], 1, 5
        )
        assert (first.total, first.pages) == (12, 3)
        for page in range(1, first.pages + 1):
            part = duplicate_persons(
                session, oversight, date(2024, 7, 1), "exclusive", ["SEL104", "SEL85"], page, 5
            )
            seen += [p.person_id for p in part.persons]
    assert len(seen) == len(set(seen)) == 12 and seen == sorted(seen)


# ------------------------------------------------------------------ reconciliation upload


def reference_csv(client: TestClient, world: World, unknown: int) -> bytes:
    """SEL85's persons 0-9 by source id (2 missing), plus `unknown` rows nobody matches."""
    rows = ["source_id,national_id,benefit_code,start_date,end_date"]
    rows += [f"A{i},,1.12.0.2,2024-01-01," for i in range(10)]
    rows += [f"NOPE{i},,1.12.0.2,2024-01-01," for i in range(unknown)]
    return ("\n".join(rows) + "\n").encode()


def upload(client: TestClient, token: str, content: bytes, lang: str = "en", **form: str) -> Any:
    """Post the form as the page does (its action carries the language)."""
    data = {"left": "SEL85", "as_of": LATE, "purpose": "control", **form}
    return client.post(
        f"/dashboard/reconciliation?lang={lang}",
        data=data,
        files={"reference": ("extract.csv", content, "text/csv")},
        headers={**bearer(token), **HTML},
    )


def test_reconciliation_upload_compares_and_audits(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = world.setup.oversight
    form = get(client, token, "/dashboard/reconciliation", lang="da").text
    assert 'enctype="multipart/form-data"' in form and "Afstemning" in form
    answer = upload(client, token, reference_csv(client, world, 1200), lang="da")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert re.search(r'id="summary-left">12<', html)
    assert re.search(r'id="summary-both">10<', html)
    assert re.search(r'id="summary-left_only">2<', html)
    assert re.search(r'id="summary-unresolved">1\.200<', html)  # Danish thousands
    only = set(re.findall(r'<tr data-person="([0-9a-f-]{36})">', html))
    assert len(only) == 2
    event = events(engine, "overview.reconciliation")[-1]
    assert event.purpose == "control" and event.detail["via"] == "dashboard"
    assert only <= set(event.person_ids)
    # the same upload as CSV, for Danish Excel
    csv_answer = upload(client, token, reference_csv(client, world, 0), format="csv", lang="da")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.content.startswith(b"\xef\xbb\xbf") and b"section;" in csv_answer.content
    # analysts may not upload; a bad file names its rows
    refused = upload(client, world.setup.analyst, reference_csv(client, world, 0))
    assert refused.status_code == 403
    bad = upload(client, token, b"source_id,start_date\nA1,yesterday\n")
    assert bad.status_code == 422 and "start_date" in bad.text


def test_reconciliation_form_from_another_site_is_refused(client: TestClient, world: World) -> None:
    sign_in(client, "oversight")
    forged = client.post(
        "/dashboard/reconciliation",
        data={"left": "SEL85", "as_of": LATE, "purpose": "control"},
        files={"reference": ("x.csv", b"source_id\nA1\n", "text/csv")},
        headers={"Origin": "https://evil.example", **HTML},
    )
    assert forged.status_code == 403
    same = client.post(
        "/dashboard/reconciliation",
        data={"left": "SEL85", "as_of": LATE, "purpose": "control"},
        files={"reference": ("x.csv", b"source_id\nA1\n", "text/csv")},
        headers={**SAME, **HTML},
    )
    assert same.status_code == 200, same.text


# ------------------------------------------------------------------ CSV and trends


def test_a_danish_page_downloads_csv_for_danish_excel(client: TestClient, world: World) -> None:
    token = bearer(world.setup.oversight)
    for path, params in (
        ("/dashboard/coverage", {"as_of": LATE, "table": "region"}),
        ("/dashboard/coverage", {"as_of": LATE, "table": "breakdown", "breakdown": "sex"}),
        ("/dashboard/overlaps", {"as_of": LATE}),
        ("/dashboard/counts", {"as_of": LATE}),
        ("/dashboard/trends", {"from": "2024-01-01", "to": "2024-08-31"}),
        ("/dashboard/duplicates", {"as_of": LATE}),
    ):
        danish = client.get(path, params={**params, "format": "csv", "lang": "da"}, headers=token)
        english = client.get(path, params={**params, "format": "csv", "lang": "en"}, headers=token)
        assert danish.content.startswith(b"\xef\xbb\xbf"), path
        assert not english.content.startswith(b"\xef\xbb\xbf"), path
        rows = list(csv.reader(io.StringIO(danish.content.decode("utf-8-sig")), delimiter=";"))
        assert rows == list(csv.reader(io.StringIO(english.text))), path
        assert ";" in danish.text.splitlines()[0]


def test_long_trends_go_by_quarter_then_by_year(client: TestClient, world: World) -> None:
    token = world.setup.oversight
    short = get(client, token, "/dashboard/trends", **{"from": "2023-11-01", "to": "2024-08-31"})
    assert 'data-interval="month"' in short.text and '<th scope="row">2024-06</th>' in short.text
    long = get(client, token, "/dashboard/trends", **{"from": "2021-01-01", "to": "2024-08-31"})
    assert 'data-interval="quarter"' in long.text
    assert '<th scope="row">2024 Q2</th>' in long.text
    rows = re.findall(r'<th scope="row">(\d{4} Q\d)</th>', long.text)
    assert len(rows) == 15  # 2021 Q1 .. 2024 Q3
    danish = get(
        client, token, "/dashboard/trends", **{"from": "2021-01-01", "to": "2024-08-31"}, lang="da"
    )
    assert '<th scope="row">2024 K2</th>' in danish.text
    years = get(client, token, "/dashboard/trends", **{"from": "2014-01-01", "to": "2024-08-31"})
    assert 'data-interval="year"' in years.text
    assert re.findall(r'<th scope="row">(\d{4})</th>', years.text)[-1] == "2024"
    # the quarter's figure is the API's quarterly answer
    quarterly = api(
        client,
        token,
        "timeseries",
        **{"from": "2021-01-01", "to": "2024-08-31"},
        interval="quarter",
    )
    q2 = {
        r["programme"]: r["persons"] for r in quarterly["rows"] if r["period_start"] == "2024-04-01"
    }
    assert q2["SEL104"] == 12
    # the chart is drawn no wider than a phone can scale legibly
    width = re.search(r'<svg class="chart lines"[^>]*width="(\d+)"', years.text)
    assert width is not None and int(width.group(1)) <= 700
