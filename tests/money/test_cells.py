"""The money summary (`overview_money_cell`, `overview_flow_cell`) gives exactly the
episodes' spending and inflow/outflow, and its refresh stays exact through corrections,
retractions and merges."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry.overview.episodes import receiving_from
from registry.overview.flowcells import cell_flows
from registry.overview.lattice import finest_table
from registry.overview.moneycells import cell_spending
from registry.overview.movement import flows_sql
from registry.overview.periods import periods
from registry.overview.queries import CURRENT
from registry.overview.spending import LEFT_OUT, spending_sql
from registry.overview.summary import refresh_summary
from registry.overview.sweep import swept
from tests.money.conftest import Money, grant
from tests.overview.conftest import P1, P3, P4, push

BY = (
    ["programme"],
    ["region"],
    ["benefit_code"],
    ["programme", "region"],
    ["region", "programme", "benefit_code"],
)
RANGES = (
    (date(2023, 1, 1), date(2025, 12, 31), "month"),
    (date(2023, 1, 1), date(2025, 12, 31), "quarter"),
    (date(2023, 1, 1), date(2025, 12, 31), "year"),
    (date(2024, 2, 1), date(2024, 5, 31), "month"),
    (date(2024, 12, 1), date(2025, 1, 31), "month"),
)


STEP = {"month": "1 month", "quarter": "3 months", "year": "1 year"}


def assert_cells_equal_episodes(engine: Engine) -> None:
    """For every range and dimension set: the cells' answer is each episode's share summed
    (numeric, exact), and the sweep's to its float noise (it may round a tie either way)."""
    with engine.connect() as conn:
        session = Session(bind=conn)
        for start, end, interval in RANGES:
            found = periods(start, end, interval)
            window = {"from": found[0].start, "to": found[-1].end}
            left_out = session.execute(
                text(LEFT_OUT.format(from_=receiving_from(CURRENT, record=False))), window
            ).scalar_one()
            for asked in BY:
                fast = cell_spending(session, asked, found)
                assert fast is not None, "the summary is clean: the cells answer"
                flat = {(p, *c): v for p, cells in fast.cells.items() for c, v in cells.items()}
                share = {
                    (r[0], *r[1 : 1 + len(asked)]): float(r.amount)
                    for r in session.execute(
                        text(spending_sql(asked, CURRENT, None)),
                        {**window, "step": STEP[interval]},
                    )
                    if r.amount
                }
                assert flat == share, (start, interval, asked)
                for p in found:
                    mine = [v for (ps, *_), v in share.items() if ps == p.start]
                    assert fast.totals[p.start] == round(sum(mine), 2), (p, asked)
                swept_cells, _ = swept(session, asked, found, CURRENT, window)
                for p, cells in swept_cells.items():
                    for cell, value in cells.items():
                        assert value is not None
                        assert round(abs(value - flat[(p, *cell)]), 2) <= 0.01, (p, cell)
                assert fast.left_out == left_out, (start, interval, asked)
                assert_flows_equal(session, asked, found[0].start, found[-1].end)


def assert_flows_equal(session: Session, asked: list[str], start: date, end: date) -> None:
    """The flow cells' spells opened and closed per month = the episodes' spell windows."""
    finest = list(finest_table(tuple(asked)))
    fast = cell_flows(session, finest, start, end)
    assert fast is not None, "the summary is clean: the cells answer"
    slow: dict[str, dict[date, dict[tuple[object, ...], int]]] = {"inflow": {}, "outflow": {}}
    for row in session.execute(text(flows_sql(finest, CURRENT)), {"from": start, "to": end}):
        slow[row.flow].setdefault(row.ps, {})[tuple(row[2 : 2 + len(finest)])] = int(row.n)
    assert fast == slow, (start, end, finest)


def assert_cells_are_the_persons_sum(engine: Engine) -> None:
    """The cells equal their persons' rows summed, and a rebuild from scratch."""
    key = "programme_id, region, benefit_code, per, kind, month, first_day"
    sums = "sum(episodes), sum(amount), sum(day_amount), sum(doy_amount)"
    kept = f"SELECT {key}, {sums} FROM overview_money_cell GROUP BY {key} HAVING sum(episodes) <> 0"
    persons = f"SELECT {key}, {sums} FROM overview_money_person GROUP BY {key}"
    with engine.begin() as conn:
        before = set(conn.execute(text(kept)))
        assert before == set(conn.execute(text(persons)))
        conn.execute(text("DELETE FROM overview_money_person"))
        conn.execute(text("DELETE FROM overview_money_cell"))
        flows_before = set(conn.execute(text("SELECT * FROM overview_flow_cell WHERE spells <> 0")))
        flows_before = {r[1:] for r in flows_before}
        conn.execute(text("DELETE FROM overview_flow_person"))
        conn.execute(text("DELETE FROM overview_flow_cell"))
        conn.execute(text("INSERT INTO overview_dirty (person_id) SELECT id FROM person"))
        refresh_summary(Session(bind=conn))
        assert set(conn.execute(text(kept))) == before
        rebuilt = conn.execute(text("SELECT * FROM overview_flow_cell WHERE spells <> 0"))
        assert {r[1:] for r in rebuilt} == flows_before
        # a zero row is a cell whose episodes all went: it holds nothing
        zero = "SELECT count(*) FROM overview_money_cell WHERE episodes = 0 AND amount <> 0"
        assert conn.execute(text(zero)).scalar_one() == 0
        flows = "programme_id, region, benefit_code, flow, month"
        cell = f"SELECT {flows}, sum(spells) FROM overview_flow_cell GROUP BY {flows}"
        rows = f"SELECT {flows}, sum(spells) FROM overview_flow_person GROUP BY {flows}"
        assert {r for r in conn.execute(text(cell)) if r[-1]} == set(conn.execute(text(rows)))


def more_grants(client: TestClient, money: Money) -> None:
    """Yearly across a year's end, payments, a spell ending on a month's first, pending."""
    push(
        client,
        money.setup.sel104,
        "SEL104",
        "c1",
        [
            grant("Y1", P4, "1084", "2023-07-15", "2024-02-20", 12000, "year", benefit="1.1"),
            grant("Y2", P1, "1085", "2024-12-31", "2025-01-01", 1234.56, "month", benefit="1.1"),
            grant("Y3", P1, "1084", "2023-12-31", "2024-01-05", 777.77, "payment", benefit="1.1"),
            grant("Y4", P3, "1084", "2024-03-03", "2025-06-30", 901.17, "month", benefit="1.1"),
            grant(
                "Y5", P4, "1085", "2024-01-01", None, 500, "month", status="pending", benefit="1.1"
            ),
            grant("Y6", P3, "1085", "2024-05-01", "2024-05-31", 88, None, benefit="1.1"),
        ],
    )


def test_cells_equal_the_episodes(client: TestClient, money: Money, engine: Engine) -> None:
    more_grants(client, money)
    assert_cells_equal_episodes(engine)
    assert_cells_are_the_persons_sum(engine)


def test_cells_follow_corrections_retractions_and_merges(
    client: TestClient, money: Money, engine: Engine
) -> None:
    more_grants(client, money)
    # a correction: another amount, period and end; one back to back with M2 on SEL85
    push(
        client,
        money.setup.sel85,
        "SEL85",
        "c2",
        [
            # June: 15/30 x 2999.99 = 1499.995 exactly, rounded half up as numeric rounds
            grant("M4", P3, "1085", "2024-01-01", "2024-06-15", 2999.99, "month"),
            grant("M8", P1, "1084", "2024-02-01", "2024-04-10", 400, "month"),
        ],
    )
    push(client, money.setup.sel104, "SEL104", "c3", [{"source_id": "Y4", "retracted": True}])
    assert_cells_equal_episodes(engine)
    # a merge: P4's episodes now belong to P3 (the trigger marks both; the refresh runs)
    with engine.begin() as conn:
        ids = {
            str(sid): pid
            for sid, pid in conn.execute(
                text(
                    "SELECT r.source_id, e.person_id FROM enrolment e"
                    " JOIN source_record r ON r.id = e.source_record_id"
                    " WHERE r.source_id IN ('M5', 'M4') AND e.superseded_at IS NULL"
                )
            )
        }
        conn.execute(
            text("UPDATE person SET status = 'merged', merged_into = :s WHERE id = :d"),
            {"s": ids["M4"], "d": ids["M5"]},
        )
        assert refresh_summary(Session(bind=conn)) > 0
    assert_cells_equal_episodes(engine)
    assert_cells_are_the_persons_sum(engine)


def test_a_dirty_summary_is_not_read(client: TestClient, money: Money, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO overview_dirty (person_id) SELECT id FROM person LIMIT 1"))
        found = periods(date(2024, 1, 1), date(2024, 12, 31), "month")
        assert cell_spending(Session(bind=conn), ["programme"], found) is None
        # a dimension the cells do not hold is never read from them
        assert cell_spending(Session(bind=conn), ["municipality"], found) is None
        assert cell_flows(Session(bind=conn), ["programme"], found[0].start, found[-1].end) is None
