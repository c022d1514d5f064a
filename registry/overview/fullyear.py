"""Full-year persons (helårspersoner): receiving days in a year over the days in the year.

Per person and cell, the days of the calendar year on which at least one receiving episode
of a programme covers them (a day counted once however many episodes cover it), divided by
365 or 366 and summed over persons. `persons` counts the distinct persons receiving on at
least one day of the year. A person whose episodes of one programme lie in two cells (two
regions) counts in each for the days there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.overview.access import OVERVIEW_READERS, suppressing
from registry.overview.disclosure import DEFAULT_K
from registry.overview.episodes import OPEN_END, episodes_from, roomy
from registry.overview.lattice import Cell, finest_table, subsets
from registry.overview.periods import MONEY_DIMENSIONS, dimension_sql, parse_by, periods
from registry.overview.protection import MonthTable, MonthTables, cube_rows, published_cells
from registry.overview.queries import system_time
from registry.overview.schemas import FullYear, FullYearRow, FullYearTotal


def full_year_sql(dimensions: list[str], condition: str, sets: list[tuple[int, ...]]) -> str:
    """Receiving days over days in the year, and distinct persons, per year and cell."""
    names = [f"d{i}" for i in range(len(dimensions))]
    inner = "".join(f"{dimension_sql(d)} AS {n}, " for n, d in zip(names, dimensions, strict=True))
    cols = "".join(f", {n}" for n in names)
    clause, pid = episodes_from(condition, [inner], persons=True)
    grouping = ", ".join("(" + ", ".join(["ps", *(names[i] for i in s)]) + ")" for s in sets)
    return f"""
WITH y AS (
    SELECT make_date(v, 1, 1) AS ys, make_date(v, 12, 31) AS ye
    FROM generate_series(CAST(:first_year AS int), CAST(:last_year AS int)) AS v
), e0 AS (
    SELECT {inner}{pid} AS pid, e.programme_id AS prog, e.start_date AS s0,
           COALESCE(e.end_date, {OPEN_END}) AS t0
    {clause}
      AND e.start_date <= CAST(:to AS date)
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date))
), x AS (
    SELECT e0.*, y.ys AS ps, greatest(e0.s0, y.ys) AS s, least(e0.t0, y.ye) AS t
    FROM e0 JOIN y ON e0.s0 <= y.ye AND e0.t0 >= y.ys
), w AS (
    SELECT x.*, max(t) OVER (PARTITION BY ps, pid, prog{cols} ORDER BY s, t
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
    FROM x
), per AS (
    SELECT ps{cols}, pid, sum(greatest(0, t - greatest(s - 1, COALESCE(before, s - 1)))) AS days
    FROM w GROUP BY ps{cols}, pid
)
SELECT ps{cols}, GROUPING({", ".join(names)}) AS mask, count(DISTINCT pid) AS persons,
       round(sum(days) / CAST(CAST(make_date(CAST(extract(year FROM ps) AS int), 12, 31) - ps + 1
                                    AS numeric) AS numeric), 2) AS fyp
FROM per
GROUP BY GROUPING SETS ({grouping})
"""


def full_year(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    by: str | Sequence[str] = "programme",
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> FullYear:
    """Full-year persons and distinct persons per calendar year between two dates."""
    principal.require(*OVERVIEW_READERS)
    asked = parse_by(by, MONEY_DIMENSIONS)
    found = periods(start, end, "year")
    condition, params = system_time(recorded_at)
    hiding = suppressing(principal, suppress)
    finest = finest_table(tuple(asked)) if hiding else tuple(sorted(asked))
    parts = subsets(finest) if hiding else [finest, ()]
    sets = [tuple(finest.index(d) for d in part) for part in parts]
    bindings = {
        "from": found[0].start,
        "to": found[-1].end,
        "first_year": found[0].start.year,
        "last_year": found[-1].start.year,
        **params,
    }
    roomy(session)
    years: MonthTables = {}
    for row in session.execute(text(full_year_sql(list(finest), condition, sets)), bindings):
        cube_rows(years, finest, row, int(row.persons), float(row.fyp or Decimal(0)))
    rows: list[FullYearRow] = []
    totals: list[FullYearTotal] = []
    suppressed = False
    for p in found:
        table = years.get(p.start, MonthTable())
        cells, total = published_cells(table, tuple(asked), k if hiding else 0)
        persons = _persons(table, tuple(asked), k if hiding else 0)
        for cell in sorted(cells, key=lambda c: [str(v or "") for v in c]):
            fyp = cells[cell]
            suppressed = suppressed or fyp is None
            rows.append(
                FullYearRow(
                    year=p.start.year,
                    **dict(zip(asked, cell, strict=True)),
                    full_year_persons=fyp,
                    persons=None if fyp is None else persons.get(cell),
                )
            )
        total_persons = table.counts.get((), {}).get((), 0)
        suppressed = suppressed or total is None
        totals.append(
            FullYearTotal(
                year=p.start.year,
                full_year_persons=total,
                persons=None if total is None else total_persons,
            )
        )
    return FullYear(
        start=found[0].start.isoformat(),
        end=found[-1].end.isoformat(),
        by=asked,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        rows=rows,
        totals=totals,
        suppressed=suppressed,
    )


def _persons(table: MonthTable, asked: tuple[str, ...], k: int) -> dict[Cell, int]:
    """Distinct persons per cell by the dimensions asked (the same pattern as the values)."""
    counted = MonthTable(
        counts=table.counts,
        values={
            part: {c: float(v) for c, v in cells.items()} for part, cells in table.counts.items()
        },
    )
    cells, _ = published_cells(counted, asked, k)
    return {c: int(v) for c, v in cells.items() if v is not None}
