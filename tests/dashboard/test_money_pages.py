"""The money and movement pages over HTTP: figures are the API's, analysts see marks, CSV is
the API's CSV, every view is audited, both languages, bad input is a page in the language.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import bearer
from tests.money.conftest import Money, money, setup  # noqa: F401  (the fixtures)

HTML = {"Accept": "text/html"}
RANGE = {"from": "2024-01-01", "to": "2024-03-31"}
CELL = re.compile(r'data-cell="([^"]*)" data-value="([^"]*)"')


def page(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={**bearer(token), **HTML})
    assert response.status_code == 200, response.text
    return response


def test_spending_page_shows_the_api_cells(client: TestClient, money: Money) -> None:  # noqa: F811
    html = page(client, money.setup.oversight, "/dashboard/spending", **RANGE).text
    shown = dict(CELL.findall(html))
    assert shown["2024-01-01|SEL85"] == "7700.0"
    assert shown["2024-03-01|SEL104"] == "1000.0"
    assert 'id="suppressed-legend"' not in html
    analyst = page(client, money.setup.analyst, "/dashboard/spending", **RANGE).text
    # every cell has fewer than 5 persons: hidden, or a zero (a cell with no one)
    assert set(dict(CELL.findall(analyst)).values()) == {"", "0"}
    assert 'id="suppressed-legend"' in analyst and "7.700" not in analyst


def test_csv_is_the_api_csv(client: TestClient, money: Money) -> None:  # noqa: F811
    token = bearer(money.setup.oversight)
    mine = client.get("/dashboard/spending", params={**RANGE, "format": "csv"}, headers=token)
    theirs = client.get(
        "/api/v1/overview/spending", params={**RANGE, "format": "csv"}, headers=token
    )
    assert mine.status_code == 200 and mine.text == theirs.text
    for table, path in (("flows", "flows"), ("durations", "durations"), ("full-year", "full-year")):
        mine = client.get(
            "/dashboard/movement", params={**RANGE, "format": "csv", "table": table}, headers=token
        )
        theirs = client.get(
            f"/api/v1/overview/{path}", params={**RANGE, "format": "csv"}, headers=token
        )
        assert mine.status_code == 200 and mine.text == theirs.text, table


def test_movement_page_and_audit(client: TestClient, money: Money, engine: Engine) -> None:  # noqa: F811
    html = page(
        client, money.setup.oversight, "/dashboard/movement", **RANGE, by="programme,region"
    ).text
    for part in ('id="flows-table"', 'id="durations-table"', 'id="full-year-table"'):
        assert part in html
    page(client, money.setup.oversight, "/dashboard/spending", **RANGE, interval="quarter")
    with engine.connect() as conn:
        views = conn.execute(
            text(
                "SELECT detail, cardinality(person_ids) AS named FROM audit_event"
                " WHERE action = 'dashboard.view' ORDER BY id"
            )
        ).all()
    assert [v.detail["page"] for v in views] == ["movement", "spending"]
    assert views[1].detail["interval"] == "quarter" and views[1].named == 0


def test_languages_and_bad_input(client: TestClient, money: Money) -> None:  # noqa: F811
    danish = page(client, money.setup.oversight, "/dashboard/movement", **RANGE, lang="da").text
    assert "Til- og afgang" in danish and "Helårspersoner" in danish
    assert "Udgifter" in page(client, money.setup.oversight, "/dashboard/spending", lang="da").text
    for params in ({"by": "colour"}, {"from": "2024-05-01", "to": "2024-01-01"}):
        response = client.get(
            "/dashboard/spending",
            params={**params, "lang": "da"},
            headers={**bearer(money.setup.oversight), **HTML},
        )
        assert response.status_code == 422, response.text
        assert '<html lang="da">' in response.text


def test_other_roles_are_refused(client: TestClient, money: Money) -> None:  # noqa: F811
    for path in ("/dashboard/spending", "/dashboard/movement"):
        response = client.get(path, headers={**bearer(money.setup.steward_1084), **HTML})
        assert response.status_code == 403
