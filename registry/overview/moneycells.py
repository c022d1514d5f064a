"""Spending by programme, region and benefit from the money summary (`overview_money_cell`).

The cells hold, per (programme, region, benefit), amount period, kind (a start, or the day
after an end) and month, the summed amounts of the current receiving episodes' events and
the amounts weighted by their day (`summary.py` keeps them). That is what `sweep.swept`
groups the episodes by, so paid() at month ends follows from the cells alone: starts add
rate and subtract amount x position, ends the reverse (`sweep`'s rule, worked out here in
exact decimals). Episodes wholly before the range land in the first bucket with both events
and add the same constant to every paid(), which the periods' differences cancel; those
wholly after it are not read. Read only in the statement that finds no dirty mark.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.periods import Period

#: The dimensions the cells carry, as their SQL over cell `c` and programme `g`.
CELL_DIMENSIONS = {"programme": "g.code", "region": "c.region", "benefit_code": "c.benefit_code"}

_DAYS_IN_MONTH = "extract(day FROM c.month + interval '1 month - 1 day')"
_DAYS_IN_YEAR = "extract(doy FROM make_date(CAST(extract(year FROM c.month) AS int), 12, 31))"
#: amount x position of the events (months or years from the first period), to 20 decimals.
_AT = f"""CASE c.per
    WHEN 'month' THEN c.amount * (extract(year FROM c.month) * 12 + extract(month FROM c.month)
                                  - :m0) + CAST(c.day_amount AS numeric(40, 20)) / {_DAYS_IN_MONTH}
    WHEN 'year' THEN c.amount * (extract(year FROM c.month) - :y0)
                     + CAST(c.doy_amount AS numeric(40, 20)) / {_DAYS_IN_YEAR}
    ELSE 0 END"""


def cells_sql(asked: list[str]) -> str:
    """Per asked cell, period kind, event kind and month bucket: amounts and positions."""
    dims = "".join(f"{CELL_DIMENSIONS[d]} AS d{i}, " for i, d in enumerate(asked))
    cols = "".join(f"d{i}, " for i in range(len(asked)))
    nulls = "".join("NULL, " for _ in asked)
    return f"""
WITH stale AS (SELECT EXISTS (SELECT 1 FROM overview_dirty) AS stale)
SELECT false AS stale, {dims}c.per, c.kind,
       greatest(c.month, CAST(:before AS date)) AS bucket, sum(c.episodes) AS episodes,
       sum(c.amount) AS amount, sum({_AT}) AS at,
       sum(c.episodes) FILTER (WHERE c.kind = 1 AND (c.month < CAST(:from AS date)
                               OR (c.month = CAST(:from AS date) AND c.first_day))) AS gone
FROM overview_money_cell c JOIN programme g ON g.id = c.programme_id
WHERE c.month <= CAST(:to AS date) AND NOT (SELECT stale FROM stale)
GROUP BY {cols}c.per, c.kind, bucket
UNION ALL
SELECT true, {nulls}NULL, 0, NULL, 0, 0, 0, 0 WHERE (SELECT stale FROM stale)
"""


Cell = tuple[Any, ...]


@dataclass(frozen=True)
class CellSpending:
    """Spending from the cells: each period's amount per cell, its total, and left out."""

    cells: dict[date, dict[Cell, float | None]]
    totals: dict[date, float | None]
    left_out: int


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _position(per: str, day: date, first: date) -> Decimal:
    """M or Y of a first day of a month, from the first period (`sweep`'s rule, exact)."""
    if per == "month":
        return Decimal(day.year * 12 + day.month - (first.year * 12 + first.month))
    if per == "year":
        days = (date(day.year, 12, 31) - date(day.year, 1, 1)).days + 1
        return Decimal(day.year - first.year) + Decimal(day.timetuple().tm_yday - 1) / days
    return Decimal(0)


#: Noise of the exact arithmetic (positions to 20 decimals) sits far below this.
_NOISE = Decimal("1e-10")
_CENT = Decimal("0.01")


def _cents(value: Decimal) -> float:
    """Rounded to øre half away from zero, as numeric `round(x, 2)` (the share's rule)."""
    return float(value.quantize(_NOISE).quantize(_CENT, rounding=ROUND_HALF_UP))


def cell_spending(session: Session, asked: list[str], found: list[Period]) -> CellSpending | None:
    """Spending of current rows per asked cell from the money summary; None when it is dirty
    or a dimension is not in the cells (the caller reads the episodes)."""
    if not set(asked) <= set(CELL_DIMENSIONS):
        return None
    first = found[0].start
    before = (first - timedelta(days=1)).replace(day=1)
    months = [before]
    while months[-1] < found[-1].end.replace(day=1):
        months.append(_next_month(months[-1]))
    index = {m: i for i, m in enumerate(months)}
    params = {
        "before": before,
        "from": first,
        "to": months[-1],
        "m0": first.year * 12 + first.month,
        "y0": first.year,
    }
    zeros = [Decimal(0)] * len(months)
    rate: dict[tuple[Cell, str], list[Decimal]] = defaultdict(lambda: list(zeros))
    const: dict[tuple[Cell, str], list[Decimal]] = defaultdict(lambda: list(zeros))
    left_out = 0
    n = len(asked)
    for row in session.execute(text(cells_sql(asked)), params):
        if row.stale:
            return None
        key = (tuple(row[1 : 1 + n]), row.per)
        i = index[row.bucket]
        if row.per == "none":
            left_out += int(row.episodes) if row.kind == 0 else -int(row.gone or 0)
        elif row.per == "payment":
            const[key][i] += row.amount
        elif row.kind == 0:
            rate[key][i] += row.amount
            const[key][i] -= row.at
        else:
            rate[key][i] -= row.amount
            const[key][i] += row.at
    with localcontext() as exact:
        exact.prec = 50
        paid: dict[Cell, list[Decimal]] = defaultdict(lambda: list(zeros))
        for key in set(rate) | set(const):
            cell, per = key
            r = c = Decimal(0)
            for i, month in enumerate(months):
                r += rate[key][i]
                c += const[key][i]
                paid[cell][i] += _position(per, _next_month(month), first) * r + c
        cells: dict[date, dict[Cell, float | None]] = {p.start: {} for p in found}
        totals: dict[date, float | None] = {}
        for p in found:
            start, stop = index[p.start] - 1, index[p.end.replace(day=1)]
            total = 0.0
            for cell, values in paid.items():
                amount = _cents(values[stop] - values[start])
                if amount:
                    cells[p.start][cell] = amount
                    total += amount
            totals[p.start] = round(total, 2)
    return CellSpending(cells=cells, totals=totals, left_out=left_out)
