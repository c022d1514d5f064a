"""Inflow/outflow, durations (censored spells), full-year persons on the money registry."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.money.conftest import Money, get


def flows(body: dict, *dims: str) -> dict:
    return {
        (r["period_start"], *(r[d] for d in dims)): (r["inflow"], r["outflow"])
        for r in body["rows"]
    }


def test_inflow_and_outflow_per_month(client: TestClient, money: Money) -> None:
    body = get(client, money.setup.oversight, "flows", **{"from": "2024-01-01", "to": "2024-12-31"})
    assert flows(body, "programme") == {
        # P1 (M1) and P2 (M3); P3's M4 follows M7 without a gap: no flow; M6 is suspended
        ("2024-01-01", "SEL85"): (2, 0),
        ("2024-02-01", "SEL85"): (1, 2),  # P4's one-day payment; P2's M3 and P4 end
        ("2024-03-01", "SEL104"): (1, 0),
        # M1 ends 2024-03-31 but M2 starts the next day: P1 keeps receiving
        ("2024-05-01", "SEL104"): (0, 1),
        ("2024-12-01", "SEL85"): (0, 1),  # P3's M4
    }
    assert [(t["inflow"], t["outflow"]) for t in body["totals"][:3]] == [(2, 0), (1, 2), (1, 0)]


def test_flows_by_region_and_age_at_start_per_quarter(client: TestClient, money: Money) -> None:
    body = get(
        client,
        money.setup.oversight,
        "flows",
        **{
            "from": "2024-01-01",
            "to": "2024-06-30",
            "interval": "quarter",
            "by": "programme,age_band",
        },
    )
    assert flows(body, "programme", "age_band") == {
        ("2024-01-01", "SEL85", "30-49"): (2, 1),  # P1 (34 at start), P2 (43)
        ("2024-01-01", "SEL85", "0-17"): (1, 1),  # P4, 13 on the payment day
        ("2024-01-01", "SEL104", "30-49"): (1, 0),
        ("2024-04-01", "SEL104", "30-49"): (0, 1),
    }
    regions = get(
        client,
        money.setup.oversight,
        "flows",
        **{"from": "2024-01-01", "to": "2024-03-31", "interval": "quarter", "by": "region"},
    )
    assert flows(regions, "region") == {
        ("2024-01-01", "1084"): (2, 1),
        ("2024-01-01", "1085"): (2, 1),
    }


def test_flows_as_recorded(client: TestClient, money: Money) -> None:
    before = get(
        client,
        money.setup.oversight,
        "flows",
        **{"from": "2024-01-01", "to": "2024-12-31", "recorded_at": money.before_m2.isoformat()},
    )
    # before M2 was sent, P1's M1 ended on 2024-03-31: an outflow in March
    assert flows(before, "programme")[("2024-03-01", "SEL85")] == (0, 1)


def test_durations_with_censored_spells(client: TestClient, money: Money) -> None:
    body = get(
        client, money.setup.oversight, "durations", **{"from": "2024-01-01", "to": "2024-06-30"}
    )
    rows = {r["programme"]: r for r in body["rows"]}
    sel85 = rows["SEL85"]
    # P1 (M1+M2, open on 2024-06-30: 182 days so far), P2 (30 days), P4 (1 day); P3 started 2023
    assert (sel85["spells"], sel85["ended"], sel85["open"]) == (3, 2, 1)
    assert sel85["median_days"] == 30  # Kaplan-Meier: 2/3 after day 1, 1/3 after day 30
    bands = {b["band"]: (b["ended"], b["open"]) for b in sel85["bands"]}
    assert bands == {"0-3m": (2, 0), "3-6m": (0, 1), "6-12m": (0, 0), "1-2y": (0, 0), "2y+": (0, 0)}
    assert rows["SEL104"]["median_days"] == 92
    # as of March, P1's spell is open and the median is not reached with one of two open
    march = get(
        client, money.setup.oversight, "durations", **{"from": "2024-01-01", "to": "2024-01-31"}
    )
    only = march["rows"][0]
    assert (only["spells"], only["ended"], only["open"], only["median_days"]) == (2, 0, 2, None)


def test_full_year_persons(client: TestClient, money: Money) -> None:
    body = get(
        client, money.setup.oversight, "full-year", **{"from": "2024-01-01", "to": "2024-12-31"}
    )
    rows = {r["programme"]: (r["full_year_persons"], r["persons"]) for r in body["rows"]}
    # P1 366 days (M1, M2), P2 30, P3 366, P4 1 day; P2's suspended M6 not at all
    assert rows == {"SEL85": (round(763 / 366, 2), 4), "SEL104": (round(92 / 366, 2), 1)}
    assert body["totals"] == [
        {"year": 2024, "full_year_persons": round(855 / 366, 2), "persons": 4}
    ]
    regions = get(
        client,
        money.setup.oversight,
        "full-year",
        **{"from": "2024-06-01", "to": "2024-06-01", "by": "programme,region"},
    )
    assert (regions["from"], regions["to"]) == ("2024-01-01", "2024-12-31")
    cells = {(r["programme"], r["region"]): r["full_year_persons"] for r in regions["rows"]}
    assert cells[("SEL85", "1084")] == round(367 / 366, 2)
    assert cells[("SEL85", "1085")] == round(396 / 366, 2)
