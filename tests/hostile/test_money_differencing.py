"""Attack: an analyst recovers a hidden amount or flow from answers by other dimensions,
by quarter instead of month, or over shifted ranges.

    SEL85   1.12.0.2  persons 0-9   region 1084  1000/month from 2024-01-01
    SEL85   1.12.0.1  persons 10-11 region 1085  2000/month from 2024-01-01  (small: 2)
    SEL85   1.12.0.2  persons 12-17 region 1085  1500/month from 2024-01-01
    SEL104  1.1       persons 20-27 region 1085   500/month from 2024-01-01
    SEL104  1.1       persons 30-35 region 1084   600/month from 2024-01-01
    SEL104  1.1       person 28     region 1086   700/month from 2024-02-01  (small: 1)

Known limit (the lattice's, as for coverage): where a small cell is the difference of two
published margins that are not small themselves and no other cell can hide with it, it
follows from them; these tables are not so degenerate.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture)
from tests.factories import bearer
from tests.hostile.test_suppressed_cell_recovery import K, determined, person
from tests.money.conftest import grant
from tests.overview.conftest import push

DIMENSIONS = ("programme", "benefit_code", "region")
#: Persons in each finest cell (one episode each), by month of 2024.
PERSONS = {
    ("SEL85", "1.12.0.2", "1084"): {1: 10, 2: 10, 3: 10},
    ("SEL85", "1.12.0.1", "1085"): {1: 2, 2: 2, 3: 2},
    ("SEL85", "1.12.0.2", "1085"): {1: 6, 2: 6, 3: 6},
    ("SEL104", "1.1", "1085"): {1: 8, 2: 8, 3: 8},
    ("SEL104", "1.1", "1084"): {1: 6, 2: 6, 3: 6},
    ("SEL104", "1.1", "1086"): {2: 1, 3: 1},
}
MONTHS = ("2024-01-01", "2024-02-01", "2024-03-01")


def paid(i: int, benefit: str, region: str, amount: int, start: str = "2024-01-01") -> Any:
    who = person(i)
    return grant(f"G{i}", who, region, start, None, amount, "month", benefit=benefit)


@pytest.fixture
def paid_registry(client: TestClient, setup: Setup) -> Setup:  # noqa: F811
    sel85 = [paid(i, "1.12.0.2", "1084", 1000) for i in range(10)]
    sel85 += [paid(i, "1.12.0.1", "1085", 2000) for i in (10, 11)]
    sel85 += [paid(i, "1.12.0.2", "1085", 1500) for i in range(12, 18)]
    sel104 = [paid(i, "1.1", "1085", 500) for i in range(20, 28)]
    sel104 += [paid(i, "1.1", "1084", 600) for i in range(30, 36)]
    sel104.append(paid(28, "1.1", "1086", 700, "2024-02-01"))
    push(client, setup.sel85, "SEL85", "p1", sel85)
    push(client, setup.sel104, "SEL104", "p2", sel104)
    return setup


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def month_index(day: str) -> int:
    return int(day[5:7])


@pytest.mark.parametrize(("path", "field"), [("spending", "amount"), ("flows", "inflow")])
def test_no_hidden_value_follows_from_every_answer_by_month_and_quarter(
    client: TestClient, paid_registry: Setup, path: str, field: str
) -> None:
    """Amounts and flows add up exactly: solve every published cell of every `by` at once."""
    window = {"from": "2024-01-10", "to": "2024-03-05"}  # widened to whole months
    unknowns = [(m, cell) for m in range(1, 4) for cell in PERSONS]
    equations: list[set[Any]] = []
    secrets: list[tuple[str, set[Any]]] = []
    hidden_seen = 0
    for interval in ("month", "quarter"):
        for n in range(1, len(DIMENSIONS) + 1):
            for by in combinations(DIMENSIONS, n):
                body = get(
                    client,
                    paid_registry.analyst,
                    path,
                    **window,
                    interval=interval,
                    by=",".join(by),
                )
                assert body["from"] == "2024-01-01"
                entries = [
                    ({d: r[d] for d in by}, r, r[field], r["period_start"]) for r in body["rows"]
                ]
                entries += [({}, t, t[field], t["period_start"]) for t in body["totals"]]
                for key, row, value, start in entries:
                    months = (
                        {month_index(start)}
                        if interval == "month"
                        else {m for m in range(1, 4) if start <= MONTHS[m - 1] <= row["period_end"]}
                    )
                    members = {
                        (m, cell)
                        for m, cell in unknowns
                        if m in months
                        and all(cell[DIMENSIONS.index(d)] == v for d, v in key.items())
                    }
                    if path == "spending":
                        persons = [PERSONS[c].get(m, 0) for m, c in members]
                        small = any(0 < p < K for p in persons) and sum(persons) < K * len(months)
                    else:
                        small = False
                    if value is not None:
                        equations.append(members)
                    else:
                        hidden_seen += 1
                        secrets.append(
                            (f"{path} {interval} by={','.join(by)} {key} {start}", members)
                        )
                    if path == "spending" and small and len(months) == 1:
                        assert value is None, (interval, by, key, start)
    assert hidden_seen
    # the small cells themselves (one month, one finest cell) never follow
    for m, cell in unknowns:
        count = PERSONS[cell].get(m, 0)
        if 0 < count < K:
            assert not determined(unknowns, equations, {(m, cell)}), (m, cell)
    for name, members in secrets:
        if path == "spending" and any(0 < PERSONS[c].get(m, 0) < K for m, c in members):
            assert not determined(unknowns, equations, members), name


def test_a_quarter_is_hidden_where_one_of_its_months_is(
    client: TestClient, paid_registry: Setup
) -> None:
    months = get(
        client,
        paid_registry.analyst,
        "spending",
        **{"from": "2024-01-01", "to": "2024-03-31", "by": "programme,region"},
    )
    quarter = get(
        client,
        paid_registry.analyst,
        "spending",
        **{
            "from": "2024-01-01",
            "to": "2024-03-31",
            "by": "programme,region",
            "interval": "quarter",
        },
    )
    assert months["suppressed"] and quarter["suppressed"]
    by_month: dict[tuple[str, str], list[Any]] = {}
    for r in months["rows"]:
        by_month.setdefault((r["programme"], r["region"]), []).append(r["amount"])
    for r in quarter["rows"]:
        values = by_month[(r["programme"], r["region"])]
        if any(v is None for v in values):
            assert r["amount"] is None
        else:
            assert r["amount"] == round(sum(values), 2)
    # the small cell: one person in SEL104/1086 from February
    hidden = {(r["programme"], r["region"]) for r in quarter["rows"] if r["amount"] is None}
    assert ("SEL104", "1086") in hidden


def test_oversight_sees_every_cell_and_analysts_always_get_suppression(
    client: TestClient, paid_registry: Setup
) -> None:
    params = {"from": "2024-02-01", "to": "2024-02-29", "by": "programme,region"}
    plain = get(client, paid_registry.oversight, "spending", **params)
    assert plain["suppressed"] is False
    cells = {(r["programme"], r["region"]): r["amount"] for r in plain["rows"]}
    assert cells[("SEL104", "1086")] == 700
    asked = get(client, paid_registry.oversight, "spending", **params, suppress="true")
    analyst = get(client, paid_registry.analyst, "spending", **params, suppress="false")
    assert asked == analyst and analyst["suppressed"] is True
    window = {"from": "2024-01-01", "to": "2024-12-31", "by": "programme,region"}
    for path in ("flows", "durations", "full-year"):
        body = get(client, paid_registry.analyst, path, **window)
        assert body["suppressed"] is True, path  # SEL104/1086: one person
        assert get(client, paid_registry.oversight, path, **window)["suppressed"] is False
