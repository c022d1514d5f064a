"""Disclosure control for answers over periods: each month protected, longer periods summed.

A month's table is protected like coverage's table of a day (`lattice.answer_pattern`:
small cells and complements against every coarser table of the same month). A quarter or a
year is the sum of its months, published only where every month's cell is, so it says
nothing the months do not: answers by month, quarter and year cannot be differenced, and
neither can two ranges (both are whole periods, see `periods`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.overview.disclosure import small
from registry.overview.lattice import Cell, Dims, answer_pattern, subsets
from registry.overview.periods import Period, months_of


@dataclass
class MonthTable:
    """One month: the counts that decide smallness and the published values, per table."""

    counts: dict[Dims, dict[Cell, int]] = field(default_factory=dict)
    values: dict[Dims, dict[Cell, float]] = field(default_factory=dict)


MonthTables = dict[date, MonthTable]
#: Per period start: the value of each cell (by the dimensions asked), None where hidden.
Published = dict[date, dict[Cell, float | None]]


def cube_rows(months: MonthTables, dims: Dims, row: Any, count: int, value: float) -> None:
    """File one GROUPING SETS row (columns ps, d0.., mask) under its month and table."""
    n = len(dims)
    present = tuple(i for i in range(n) if not int(row.mask) >> (n - 1 - i) & 1)
    part = tuple(dims[i] for i in present)
    cell = tuple(row[1 + i] for i in present)
    month = months.setdefault(row.ps, MonthTable())
    month.counts.setdefault(part, {})[cell] = count
    month.values.setdefault(part, {})[cell] = value


def additive_month(dims: Dims, cells: Mapping[Cell, int]) -> MonthTable:
    """A month of counts that add up (events): every coarser table is a sum of the finest.

    The tables are keyed by dimensions in sorted order, as `lattice.finest_table` names them.
    """
    table = MonthTable()
    for part in subsets(tuple(sorted(dims))):
        where = [dims.index(d) for d in part]
        sums: dict[Cell, int] = {}
        for cell, n in cells.items():
            key = tuple(cell[i] for i in where)
            sums[key] = sums.get(key, 0) + n
        table.counts[part] = sums
        table.values[part] = {c: float(v) for c, v in sums.items()}
    return table


def published_cells(
    month: MonthTable, asked: Dims, k: int
) -> tuple[dict[Cell, float | None], float | None]:
    """A month's cells by the dimensions asked (None where hidden) and its total."""
    if k > 0:
        table, hidden = answer_pattern(month.counts, asked, k)
    else:
        table, hidden = tuple(sorted(asked)), set()
    cells: dict[Cell, float | None] = {}
    for cell, value in month.values.get(table, {}).items():
        named = dict(zip(table, cell, strict=True))
        cells[tuple(named[d] for d in asked)] = None if cell in hidden else value
    total_count = month.counts.get((), {}).get((), 0)
    total = month.values.get((), {}).get((), 0.0)
    return cells, None if small(total_count, k) else total


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a + b, 2)


def rolled_up(
    months: MonthTables, found: Sequence[Period], asked: Dims, k: int
) -> tuple[Published, dict[date, float | None]]:
    """Each period's cells and total: the sums of its protected months."""
    cells: Published = {}
    totals: dict[date, float | None] = {}
    for period in found:
        summed: dict[Cell, float | None] = {}
        total: float | None = 0.0
        for month in months_of(period):
            if month.start not in months:
                continue
            published, month_total = published_cells(months[month.start], asked, k)
            for cell, value in published.items():
                summed[cell] = _add(summed.get(cell, 0.0), value)
            total = _add(total, month_total)
        cells[period.start] = summed
        totals[period.start] = total
    return cells, totals
