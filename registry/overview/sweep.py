"""Spending of every period from one pass over the episodes: what was paid up to each month end.

An episode paying `a` per month from day s (first unpaid day u) has paid, by the end of day
B, a x (M(min(B + 1, u)) - M(s)), where M counts months with each month's days spread
evenly (`spending.share`'s rule; per year: Y, years over the year's days). Summed over the
episodes of a cell that started by B:

    paid(B) = M(B + 1) x rate(B) + const(B)

with rate = the amounts started minus those ended by B, and const = -sum(a x M(s)) plus
sum(a x M(u)) over the same. Each episode is two events (start, end), so the query groups the
episodes by cell and the months of their two events only; the periods are then differences
of paid() at month ends. A payment adds its amount to const in the month of its start.
Positions are counted from the first period (small numbers, exact to far below an øre).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.episodes import episodes_from
from registry.overview.periods import Period, dimension_sql


def _month(day: str) -> str:
    """Months from the first period's month (:m0), a month's days spread evenly."""
    days = (
        f"date_part('day', CAST(date_trunc('month', CAST({day} AS timestamp))"
        f" + interval '1 month - 1 day' AS date))"
    )
    return (
        f"(date_part('year', {day}) * 12 + date_part('month', {day}) - :m0"
        f" + (date_part('day', {day}) - 1) / {days})"
    )


def _year(day: str) -> str:
    """Years from the first period's year (:y0), a year's days spread evenly."""
    days = f"date_part('doy', make_date(CAST(date_part('year', {day}) AS int), 12, 31))"
    return f"(date_part('year', {day}) - :y0 + (date_part('doy', {day}) - 1) / {days})"


def _position(day: str) -> str:
    return f"CASE per WHEN 'month' THEN {_month(day)} WHEN 'year' THEN {_year(day)} ELSE 0 END"


def sweep_sql(dimensions: list[str], condition: str) -> str:
    """Per cell, kind and the months of the start and end events: amounts and positions."""
    exprs = [dimension_sql(d) for d in dimensions]
    inner = "".join(f"{sql} AS d{i}, " for i, sql in enumerate(exprs))
    cols = "".join(f"d{i}, " for i in range(len(exprs)))
    clause, _ = episodes_from(condition, exprs, persons=False)
    return f"""
WITH x AS (
    SELECT {inner}e.amount_period AS per, CAST(e.amount AS double precision) AS amount,
           e.start_date AS s, e.end_date + 1 AS u
    {clause}
      AND e.amount IS NOT NULL AND e.amount_period IS NOT NULL
      AND e.start_date <= CAST(:to AS date)
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date))
)
SELECT {cols}per,
       CAST(date_trunc('month', CAST(greatest(s, CAST(:before AS date)) AS timestamp)) AS date)
           AS sm,
       CASE WHEN u <= CAST(:to AS date)
            THEN CAST(date_trunc('month', CAST(u AS timestamp)) AS date) END AS um,
       sum(amount) AS amount,
       sum(amount * {_position("s")}) AS at_start,
       sum(amount * {_position("u")}) FILTER (WHERE u <= CAST(:to AS date)) AS at_end
FROM x
GROUP BY {cols}per, sm, um
"""


Cell = tuple[Any, ...]


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def swept(
    session: Session,
    asked: list[str],
    found: list[Period],
    condition: str,
    bindings: dict[str, Any],
) -> tuple[dict[date, dict[Cell, float | None]], dict[date, float | None]]:
    """Each period's amount per cell and its total, from paid() at month ends."""
    first = found[0].start
    before = first - timedelta(days=1)
    params = {**bindings, "before": before, "m0": first.year * 12 + first.month, "y0": first.year}
    months = [before.replace(day=1)]
    while months[-1] < found[-1].end.replace(day=1):
        months.append(_next_month(months[-1]))
    index = {m: i for i, m in enumerate(months)}
    # per cell and kind: rate and const deltas per month bucket
    rate: dict[tuple[Cell, str], list[float]] = defaultdict(lambda: [0.0] * len(months))
    const: dict[tuple[Cell, str], list[float]] = defaultdict(lambda: [0.0] * len(months))
    n = len(asked)
    for row in session.execute(text(sweep_sql(asked, condition)), params):
        key = (tuple(row[:n]), row.per)
        amount = float(row.amount)
        if row.per == "payment":
            const[key][index[row.sm]] += amount
            continue
        rate[key][index[row.sm]] += amount
        const[key][index[row.sm]] -= float(row.at_start)
        if row.um is not None:
            rate[key][index[row.um]] -= amount
            const[key][index[row.um]] += float(row.at_end)
    paid: dict[Cell, list[float]] = defaultdict(lambda: [0.0] * len(months))
    for key in set(rate) | set(const):
        cell, per = key
        r = c = 0.0
        for i, month in enumerate(months):
            r += rate[key][i]
            c += const[key][i]
            following = _next_month(month)
            paid[cell][i] += _position_of(per, following, first) * r + c
    cells: dict[date, dict[Cell, float | None]] = {p.start: {} for p in found}
    totals: dict[date, float | None] = {}
    for p in found:
        start, stop = index[p.start] - 1, index[p.end.replace(day=1)]
        total = 0.0
        for cell, values in paid.items():
            amount = round(values[stop] - values[start], 2)
            if amount:
                cells[p.start][cell] = amount
                total += amount
        totals[p.start] = round(total, 2)
    return cells, totals


def _position_of(per: str, day: date, first: date) -> float:
    """M or Y of a first day of a month, from the first period (as the SQL counts)."""
    if per == "month":
        return float(day.year * 12 + day.month - (first.year * 12 + first.month))
    if per == "year":
        days = (date(day.year, 12, 31) - date(day.year, 1, 1)).days + 1
        return day.year - first.year + (day.timetuple().tm_yday - 1) / days
    return 0.0
