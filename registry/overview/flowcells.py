"""Inflow and outflow by programme, region and benefit from the flow summary.

`overview_flow_cell` holds the receiving spells opened and closed per cell and month, each
person's spells cut over all their current episodes (`summary.py`; the spell rule of
`episodes`). A spell's events inside a range are the same whether its episodes are read over
the range or over all time, so a range's flows are its months' cells. Read only in the
statement that finds no dirty mark.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.lattice import Cell
from registry.overview.moneycells import CELL_DIMENSIONS


def flow_cells_sql(dimensions: list[str]) -> str:
    """Spells opened and closed per month and cell between :from and :to, from the cells."""
    dims = "".join(f", {CELL_DIMENSIONS[d]} AS d{i}" for i, d in enumerate(dimensions))
    cols = "".join(f", d{i}" for i in range(len(dimensions)))
    nulls = "".join(", NULL" for _ in dimensions)
    return f"""
WITH stale AS (SELECT EXISTS (SELECT 1 FROM overview_dirty) AS stale)
SELECT false AS stale, CASE c.flow WHEN 0 THEN 'inflow' ELSE 'outflow' END AS flow,
       c.month AS ps{dims}, sum(c.spells) AS n
FROM overview_flow_cell c JOIN programme g ON g.id = c.programme_id
WHERE c.month BETWEEN CAST(:from AS date) AND CAST(:to AS date) AND NOT (SELECT stale FROM stale)
GROUP BY c.flow, c.month{cols}
HAVING sum(c.spells) <> 0
UNION ALL
SELECT true, NULL, NULL{nulls}, 0 WHERE (SELECT stale FROM stale)
"""


def cell_flows(
    session: Session, dimensions: list[str], start: date, end: date
) -> dict[str, dict[date, dict[Cell, int]]] | None:
    """Spells opened ('inflow') and closed ('outflow') per month and cell of current rows;
    None when the summary is dirty or a dimension is not in the cells."""
    if not set(dimensions) <= set(CELL_DIMENSIONS):
        return None
    counts: dict[str, dict[date, dict[Cell, int]]] = {"inflow": {}, "outflow": {}}
    n = len(dimensions)
    sql = text(flow_cells_sql(dimensions))
    for row in session.execute(sql, {"from": start, "to": end}):
        if row.stale:
            return None
        counts[row.flow].setdefault(row.ps, {})[tuple(row[3 : 3 + n])] = int(row.n)
    return counts
