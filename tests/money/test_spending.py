"""Spending: prorated monthly and yearly amounts, payments, periods, statuses, system time."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry.overview.periods import periods
from registry.overview.queries import CURRENT
from registry.overview.spending import spending_sql
from registry.overview.sweep import swept
from tests.factories import bearer
from tests.money.conftest import Money, get

FEB_M3 = round(3100 * 14 / 29, 2)  # 2024-02-01..14 of a 29-day February


def cells(body: dict, *dims: str) -> dict:
    return {(r["period_start"], *(r[d] for d in dims)): r["amount"] for r in body["rows"]}


def test_monthly_spending_by_programme(client: TestClient, money: Money) -> None:
    body = get(
        client, money.setup.oversight, "spending", **{"from": "2023-12-05", "to": "2024-03-10"}
    )
    assert (body["from"], body["to"]) == ("2023-12-01", "2024-03-31")  # whole months
    assert body["by"] == ["programme"] and body["suppressed"] is False
    assert cells(body, "programme") == {
        # M1 3000 + M3 16/31 of 3100 + M4 31/366 of 36600
        ("2024-01-01", "SEL85"): 3000 + 1600 + 3100,
        # M1 + M3 14/29 + M4 29/366 + M5's payment
        ("2024-02-01", "SEL85"): round(3000 + FEB_M3 + 2900 + 5000, 2),
        ("2024-03-01", "SEL85"): 3000 + 3100,
        ("2024-03-01", "SEL104"): 1000,
    }
    assert [t["amount"] for t in body["totals"]] == [0, 7700, round(10900 + FEB_M3, 2), 7100]
    assert body["left_out"] == 1  # M7: an amount without a period
    assert set(body["rows"][0]) == {"period_start", "period_end", "programme", "amount"}


def test_quarter_and_year_are_sums_of_months(client: TestClient, money: Money) -> None:
    months = get(
        client, money.setup.oversight, "spending", **{"from": "2024-01-01", "to": "2024-12-31"}
    )
    for interval in ("quarter", "year"):
        body = get(
            client,
            money.setup.oversight,
            "spending",
            **{"from": "2024-02-01", "to": "2024-11-30", "interval": interval},
        )
        assert (body["from"], body["to"]) == ("2024-01-01", "2024-12-31")
        for total in body["totals"]:
            inside = [
                t["amount"]
                for t in months["totals"]
                if total["period_start"] <= t["period_start"] <= total["period_end"]
            ]
            assert abs(total["amount"] - sum(inside)) < 0.02
    year = get(
        client,
        money.setup.oversight,
        "spending",
        **{"from": "2024-01-01", "to": "2024-12-31", "interval": "year", "by": "programme,region"},
    )
    # M4's yearly amount once over its whole year; M2 nine months; M1 three
    assert cells(year, "programme", "region")[("2024-01-01", "SEL85", "1085")] == round(
        36600 + 1600 + FEB_M3, 2
    )
    assert (
        cells(year, "programme", "region")[("2024-01-01", "SEL85", "1084")]
        == 9000 + 9 * 3100 + 5000
    )


def test_municipality_benefit_and_target_group(client: TestClient, money: Money) -> None:
    body = get(
        client,
        money.setup.oversight,
        "spending",
        **{"from": "2024-03-01", "to": "2024-03-31", "by": "municipality,benefit_code"},
    )
    assert cells(body, "municipality", "benefit_code") == {
        ("2024-03-01", "101", "1.1"): 1000,
        ("2024-03-01", "101", "1.12.0.1"): 3000,
        ("2024-03-01", "102", "1.12.0.1"): 3100,
    }
    groups = get(
        client,
        money.setup.oversight,
        "spending",
        **{"from": "2024-03-01", "to": "2024-03-31", "by": "target_group"},
    )
    assert cells(groups, "target_group") == {
        ("2024-03-01", "1.1.1"): 1000,
        ("2024-03-01", "1.2.2"): 6100,
    }


def test_as_recorded(client: TestClient, money: Money) -> None:
    params = {"from": "2024-04-01", "to": "2024-04-30"}
    now = get(client, money.setup.oversight, "spending", **params)
    before = get(
        client,
        money.setup.oversight,
        "spending",
        **params,
        recorded_at=money.before_m2.isoformat(),
    )
    # M2 and M4's 30/366 of its year
    assert cells(now, "programme")[("2024-04-01", "SEL85")] == 3100 + 3000
    assert cells(before, "programme")[("2024-04-01", "SEL85")] == 3000  # M2 not yet sent
    assert before["recorded_at"] is not None


def test_csv(client: TestClient, money: Money) -> None:
    for how in ({"format": "csv"}, {}):
        headers = bearer(money.setup.oversight) | ({} if how else {"Accept": "text/csv"})
        response = client.get(
            "/api/v1/overview/spending",
            params={"from": "2024-03-01", "to": "2024-03-31", **how},
            headers=headers,
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0] == "section,period_start,period_end,programme,amount,left_out"
        assert "row,2024-03-01,2024-03-31,SEL85,6100.0," in lines
        assert lines[-1] == "left_out,,,,,0"


def test_bad_input_names_the_field(client: TestClient, money: Money) -> None:
    for params, field in (
        ({"from": "2024-03-01", "to": "2024-01-31"}, "to"),
        ({"from": "2000-01-01", "to": "2024-01-31"}, "to"),
        ({"from": "2024-01-01", "to": "2024-01-31", "by": "colour"}, "by"),
        ({"from": "2024-01-01", "to": "2024-01-31", "interval": "week"}, "interval"),
    ):
        response = client.get(
            "/api/v1/overview/spending", params=params, headers=bearer(money.setup.oversight)
        )
        assert response.status_code == 422, response.text
        assert field in response.text


def test_other_roles_are_refused(client: TestClient, money: Money) -> None:
    for token in (money.setup.steward_1084, money.setup.sel85, money.setup.admin):
        response = client.get(
            "/api/v1/overview/spending",
            params={"from": "2024-01-01", "to": "2024-01-31"},
            headers=bearer(token),
        )
        assert response.status_code == 403


def test_the_sweep_equals_the_share_of_each_episode(
    client: TestClient, money: Money, engine: Engine
) -> None:
    """Oversight's answer (one pass, paid() at month ends) = each episode's share per period."""
    found = periods(date(2023, 5, 1), date(2025, 2, 28), "month")
    window = {"from": found[0].start, "to": found[-1].end}
    with engine.connect() as conn:
        session = Session(bind=conn)
        fast, _ = swept(session, ["programme", "region"], found, CURRENT, window)
        slow = {
            (r.ps, r.d0, r.d1): float(r.amount)
            for r in session.execute(
                text(spending_sql(["programme", "region"], CURRENT, None)),
                {**window, "step": "1 month"},
            )
        }
    flat = {(p, *cell): v for p, cells in fast.items() for cell, v in cells.items()}
    assert flat.keys() == {key for key, v in slow.items() if v}
    for key, value in flat.items():
        assert abs(value - slow[key]) <= 0.01, key
