"""Spending: the amounts of receiving episodes per period, by programme, benefit, region, ...

An amount is what the feed says it is per (`amount_period`): a monthly amount is prorated
by the days of each calendar month it covers (a whole month counts the amount once), a
yearly amount by the days of each calendar year it covers over that year's days (365 or
366), a payment counts whole in the period holding its start date. An amount without a
period is kept but not summed: `left_out` counts those episodes. Only receiving episodes are
paid (suspended and pending are not). Current amounts by programme, region and benefit,
unsuppressed, come from the money summary when it is clean (`moneycells`), else from the
episodes (`sweep`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.overview.access import OVERVIEW_READERS, suppressing
from registry.overview.disclosure import DEFAULT_K, small
from registry.overview.episodes import OPEN_END, episodes_from, receiving_from, roomy
from registry.overview.lattice import finest_table, subsets
from registry.overview.moneycells import cell_spending
from registry.overview.periods import MONEY_DIMENSIONS, Period, dimension_sql, parse_by, periods
from registry.overview.protection import MonthTables, cube_rows, rolled_up
from registry.overview.queries import system_time
from registry.overview.schemas import PeriodTotal, Spending, SpendingRow
from registry.overview.sweep import swept


def _month_position(day: str) -> str:
    """Months since year 0, a month's days spread evenly: a whole month is exactly 1."""
    return (
        f"(extract(year FROM {day}) * 12 + extract(month FROM {day})"
        f" + (extract(day FROM {day}) - 1) / extract(day FROM CAST(date_trunc('month',"
        f" CAST({day} AS timestamp)) + interval '1 month - 1 day' AS date)))"
    )


def _year_position(day: str) -> str:
    """Years since year 0, a year's days spread evenly: a whole year is exactly 1."""
    return (
        f"(extract(year FROM {day}) + (extract(doy FROM {day}) - 1)"
        f" / extract(doy FROM make_date(CAST(extract(year FROM {day}) AS int), 12, 31)))"
    )


def share(per: str, lo: str, hi: str) -> str:
    """The share of an amount per `per` paid for the days lo..hi - 1 (a payment: whole)."""
    return f"""CASE {per} WHEN 'payment' THEN 1
    WHEN 'month' THEN {_month_position(hi)} - {_month_position(lo)}
    ELSE {_year_position(hi)} - {_year_position(lo)} END"""


def spending_sql(dimensions: list[str], condition: str, sets: list[tuple[int, ...]] | None) -> str:
    """Amounts (and, with grouping `sets`, persons paid) per period and cell."""
    exprs = [dimension_sql(d) for d in dimensions]
    persons = sets is not None
    inner = "".join(f"{sql} AS d{i}, " for i, sql in enumerate(exprs))
    clause, pid = episodes_from(condition, exprs, persons=persons)
    cols = "".join(f", d{i}" for i in range(len(exprs)))
    xcols = "".join(f", x.d{i}" for i in range(len(exprs)))
    if sets is None:
        grouping, extra = f"GROUP BY ps{cols}", ""
    else:
        names = [f"d{i}" for i in range(len(exprs))]
        grouping = (
            "GROUP BY GROUPING SETS ("
            + ", ".join("(" + ", ".join(["ps", *(names[i] for i in s)]) + ")" for s in sets)
            + ")"
        )
        extra = f", GROUPING({', '.join(names)}) AS mask, count(DISTINCT pid) AS persons"
    return f"""
WITH d AS (
    SELECT CAST(p AS date) AS ps, CAST(p + CAST(:step AS interval) - interval '1 day' AS date) AS pe
    FROM generate_series(CAST(:from AS timestamp), CAST(:to AS timestamp),
                         CAST(:step AS interval)) AS p
), x AS (
    SELECT {inner}{pid} AS pid, e.amount, e.amount_period AS per, e.start_date AS s,
           COALESCE(e.end_date, {OPEN_END}) AS t
    {clause}
      AND e.amount IS NOT NULL AND e.amount_period IS NOT NULL
      AND e.start_date <= CAST(:to AS date)
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date))
)
SELECT ps{cols}{extra}, round(sum(z.amount * {share("z.per", "z.lo", "z.hi")}), 2) AS amount
FROM (
    -- the same days and period for many episodes: the share is worked out once for them
    SELECT d.ps{xcols}, x.pid, x.per, greatest(x.s, d.ps) AS lo,
           least(x.t, d.pe) + 1 AS hi, sum(x.amount) AS amount
    FROM d JOIN x ON x.s <= d.pe AND x.t >= d.ps AND (x.per <> 'payment' OR x.s >= d.ps)
    GROUP BY d.ps{xcols}, x.pid, x.per, lo, hi
) z
{grouping}
"""


LEFT_OUT = """
SELECT count(*) {from_}
  AND e.amount IS NOT NULL AND e.amount_period IS NULL
  AND e.start_date <= CAST(:to AS date)
  AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date))
"""


def spending(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    interval: str = "month",
    by: str | Sequence[str] = "programme",
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Spending:
    """Amounts paid to receiving episodes per whole period between two dates, by dimensions."""
    principal.require(*OVERVIEW_READERS)
    asked = parse_by(by, MONEY_DIMENSIONS)
    found = periods(start, end, interval)
    first, last = found[0].start, found[-1].end
    condition, params = system_time(recorded_at)
    window = {"from": first, "to": last, **params}
    roomy(session)
    hiding = suppressing(principal, suppress)
    fast = None if hiding or recorded_at else cell_spending(session, asked, found)
    if fast is not None:
        cells, totals, left_out = fast.cells, fast.totals, fast.left_out
    else:
        if hiding:
            cells, totals = _suppressed(session, asked, found, condition, window, k)
        else:
            cells, totals = _plain(session, asked, found, condition, window)
        left_out = int(
            session.execute(
                text(LEFT_OUT.format(from_=receiving_from(condition, record=False))), window
            ).scalar_one()
        )
    rows = [
        SpendingRow(
            period_start=p.start.isoformat(),
            period_end=p.end.isoformat(),
            **dict(zip(asked, cell, strict=True)),
            amount=amount,
        )
        for p in found
        for cell, amount in sorted(
            cells.get(p.start, {}).items(), key=lambda item: [str(v or "") for v in item[0]]
        )
    ]
    return Spending(
        start=first.isoformat(),
        end=last.isoformat(),
        interval=interval,
        by=asked,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        rows=rows,
        totals=[
            PeriodTotal(
                period_start=p.start.isoformat(),
                period_end=p.end.isoformat(),
                amount=totals.get(p.start, 0.0),
            )
            for p in found
        ],
        left_out=None if hiding and small(left_out, k) else left_out,
        suppressed=hiding
        and (
            any(v is None for c in cells.values() for v in c.values())
            or any(v is None for v in totals.values())
            or small(left_out, k)
        ),
    )


Amounts = dict[date, dict[tuple[Any, ...], float | None]]


def _money(value: Decimal | None) -> float:
    return float(round(value or Decimal(0), 2))


def _plain(
    session: Session, asked: list[str], found: list[Period], condition: str, window: dict[str, Any]
) -> tuple[Amounts, dict[date, float | None]]:
    """Every cell of every period, from one pass over the episodes (`sweep`)."""
    return swept(session, asked, found, condition, window)


def _suppressed(
    session: Session,
    asked: list[str],
    found: list[Period],
    condition: str,
    window: dict[str, Any],
    k: int,
) -> tuple[Amounts, dict[date, float | None]]:
    """Months protected one by one against every coarser table, then summed into periods."""
    finest = finest_table(tuple(asked))
    parts = subsets(finest)
    sets = [tuple(finest.index(d) for d in part) for part in parts]
    sql = spending_sql(list(finest), condition, sets)
    months: MonthTables = {}
    for row in session.execute(text(sql), {**window, "step": "1 month"}):
        cube_rows(months, finest, row, int(row.persons), _money(row.amount))
    return rolled_up(months, found, tuple(asked), k)
