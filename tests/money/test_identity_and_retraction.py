"""Money and movement follow the person resolution and the system time: a merged duplicate
is one person (its episodes join one spell), a retracted record is paid nothing from then on.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.money.conftest import Money, get, grant
from tests.overview.conftest import P2, latest_recorded, push

YEAR = {"from": "2024-01-01", "to": "2024-12-31"}


def flows_by_month(body: dict) -> dict:
    return {(r["period_start"], r["programme"]): (r["inflow"], r["outflow"]) for r in body["rows"]}


def test_a_merged_duplicate_continues_the_spell(
    client: TestClient, money: Money, engine: Engine
) -> None:
    # P2's twin (no national ID: a new person) continues B1 from the next day
    twin = grant(
        "B1-twin",
        {**P2, "national_id": None},
        "1085",
        "2024-06-01",
        None,
        1000,
        "month",
        benefit="1.1",
    )
    twin.update(given_name="Mogens", family_name="Hald", birth_date="1980-03-15", mother_name=None)
    answer = push(client, money.setup.sel104, "SEL104", "n2", [twin])
    token = money.setup.oversight
    apart = flows_by_month(get(client, token, "flows", **YEAR))
    assert apart[("2024-05-01", "SEL104")] == (0, 1) and apart[("2024-06-01", "SEL104")] == (1, 0)
    full = get(client, token, "full-year", **YEAR)
    assert {r["programme"]: r["persons"] for r in full["rows"]}["SEL104"] == 2

    twin_id = answer["results"][0]["person_id"]
    with engine.begin() as conn:
        survivor = conn.execute(
            text("SELECT person_id FROM enrolment WHERE benefit_code = '1.1' LIMIT 1")
        ).scalar_one()
        conn.execute(
            text("UPDATE person SET status = 'merged', merged_into = :s WHERE id = :d"),
            {"s": survivor, "d": twin_id},
        )
    merged = flows_by_month(get(client, token, "flows", **YEAR))
    # one person without a gap: no outflow in May, no inflow in June
    assert ("2024-05-01", "SEL104") not in merged and ("2024-06-01", "SEL104") not in merged
    full = get(client, token, "full-year", **YEAR)
    sel104 = {r["programme"]: r for r in full["rows"]}["SEL104"]
    assert sel104["persons"] == 1
    assert sel104["full_year_persons"] == round((92 + 214) / 366, 2)  # Mar-May, Jun-Dec
    durations = get(client, token, "durations", **YEAR)
    row = {r["programme"]: r for r in durations["rows"]}["SEL104"]
    assert (row["spells"], row["open"]) == (1, 1)


def test_a_retracted_record_is_paid_nothing_from_then_on(
    client: TestClient, money: Money, engine: Engine
) -> None:
    token = money.setup.oversight
    before = latest_recorded(engine)
    push(client, money.setup.sel85, "SEL85", "r1", [{"source_id": "M3", "retracted": True}])
    jan = {"from": "2024-01-01", "to": "2024-01-31"}
    now = get(client, token, "spending", **jan)
    assert now["totals"][0]["amount"] == 3000 + 3100  # M1 and M4; M3's 1600 gone
    then = get(client, token, "spending", **jan, recorded_at=before.isoformat())
    assert then["totals"][0]["amount"] == 7700
    flows = flows_by_month(get(client, token, "flows", **YEAR))
    assert flows[("2024-01-01", "SEL85")] == (1, 0)  # P1 only
