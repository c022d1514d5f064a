"""Inflow and outflow: receiving spells that start or end in each period.

A spell is a person's run of receiving episodes of one programme without a gap (see
`episodes`): moving from one episode to the next without a day off is no flow. Inflow counts
spells whose first day falls in the period, outflow spells whose last day does (an open
spell has not ended). The counts are spells, so a quarter is the sum of its months; a person
who leaves and comes back in one period counts in both. A spell's cell is its opening
episode's (inflow) or closing episode's (outflow); the age band is the age on that day.
Current flows by programme, region and benefit come from the flow summary when it is clean
(`flowcells`), else from the episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.overview.access import OVERVIEW_READERS, suppressing
from registry.overview.disclosure import DEFAULT_K
from registry.overview.episodes import (
    CLOSES,
    OPEN_END,
    OPENS,
    SPELL_ORDER,
    SPELL_WINDOW,
    episodes_from,
    roomy,
)
from registry.overview.flowcells import cell_flows
from registry.overview.lattice import Cell, finest_table
from registry.overview.periods import MOVEMENT_DIMENSIONS, Period, dimension_sql, parse_by, periods
from registry.overview.protection import MonthTable, additive_month, rolled_up
from registry.overview.queries import system_time
from registry.overview.schemas import FlowRow, Flows, FlowTotal

FLOWS = ("inflow", "outflow")


def flows_sql(dimensions: list[str], condition: str) -> str:
    """Spells opened and closed per month and cell between :from and :to.

    One pass over the episodes' window: grouping set `(in_month, ...)` counts the spells
    opened, `(out_month, ...)` those closed; the age band is the age on the event's day.
    """
    inner = "".join(
        f"{dimension_sql(d)} AS d{i}, " for i, d in enumerate(dimensions) if d != "age_band"
    )
    ages = "age_band" in dimensions
    clause, pid = episodes_from(condition, [inner], persons=True, golden=ages)
    born = "gp.birth_date" if ages else "NULL"

    def age(day: str) -> str:
        return dimension_sql("age_band", day).replace("gp.birth_date", "born")

    names_in = ["a_in" if d == "age_band" else f"d{i}" for i, d in enumerate(dimensions)]
    names_out = ["a_out" if d == "age_band" else f"d{i}" for i, d in enumerate(dimensions)]
    shown = "".join(
        ", COALESCE(a_in, a_out)" if d == "age_band" else f", d{i}"
        for i, d in enumerate(dimensions)
    )
    carried = "".join(f", d{i}" for i, d in enumerate(dimensions) if d != "age_band")
    if ages:
        carried += f", {age('s')} AS a_in, {age('t')} AS a_out"
    set_in = ", ".join(["in_month", *names_in])
    set_out = ", ".join(["out_month", *names_out])
    return f"""
WITH x AS (
    SELECT {inner}{pid} AS pid, {born} AS born, e.programme_id AS prog,
           e.start_date AS s, COALESCE(e.end_date, {OPEN_END}) AS t
    {clause}
      AND e.start_date <= CAST(:to AS date) + 1
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date) - 1)
), w AS (
    SELECT x.*, {SPELL_WINDOW} FROM x {SPELL_ORDER}
), events AS (
    SELECT w.*, {OPENS} AND s BETWEEN CAST(:from AS date) AND CAST(:to AS date) AS opens,
           {CLOSES} AND t BETWEEN CAST(:from AS date) AND CAST(:to AS date) AS closes
    FROM w
)
SELECT CASE WHEN GROUPING(in_month) = 0 THEN 'inflow' ELSE 'outflow' END AS flow,
       COALESCE(in_month, out_month) AS ps{shown},
       CASE WHEN GROUPING(in_month) = 0 THEN count(*) FILTER (WHERE opens)
            ELSE count(*) FILTER (WHERE closes) END AS n
FROM (
    SELECT opens, closes{carried},
           CASE WHEN opens THEN CAST(date_trunc('month', CAST(s AS timestamp)) AS date) END
               AS in_month,
           CASE WHEN closes THEN CAST(date_trunc('month', CAST(t AS timestamp)) AS date) END
               AS out_month
    FROM events WHERE opens OR closes
) y
GROUP BY GROUPING SETS (({set_in}), ({set_out}))
HAVING COALESCE(in_month, out_month) IS NOT NULL
"""


def flows(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    interval: str = "month",
    by: str | Sequence[str] = "programme",
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Flows:
    """Receiving spells started and ended per whole period between two dates, by dimensions."""
    principal.require(*OVERVIEW_READERS)
    asked = parse_by(by, MOVEMENT_DIMENSIONS)
    found = periods(start, end, interval)
    condition, params = system_time(recorded_at)
    finest = finest_table(tuple(asked))
    roomy(session)
    fast = None if recorded_at else cell_flows(session, list(finest), found[0].start, found[-1].end)
    counts: dict[str, dict[date, dict[Cell, int]]] = fast or {f: {} for f in FLOWS}
    if fast is None:
        sql = flows_sql(list(finest), condition)
        bindings = {"from": found[0].start, "to": found[-1].end, **params}
        for row in session.execute(text(sql), bindings):
            cell = tuple(row[2 : 2 + len(finest)])
            counts[row.flow].setdefault(row.ps, {})[cell] = int(row.n)
    hiding = suppressing(principal, suppress)
    published = {
        flow: _published(months, found, tuple(asked), finest, k if hiding else 0)
        for flow, months in counts.items()
    }
    rows: list[FlowRow] = []
    for p in found:
        cells = sorted(
            {*published["inflow"][0][p.start], *published["outflow"][0][p.start]},
            key=lambda c: [str(v or "") for v in c],
        )
        for cell in cells:
            values = {f: published[f][0][p.start].get(cell, 0.0) for f in FLOWS}
            rows.append(
                FlowRow(
                    period_start=p.start.isoformat(),
                    period_end=p.end.isoformat(),
                    **dict(zip(asked, cell, strict=True)),
                    inflow=_count(values["inflow"]),
                    outflow=_count(values["outflow"]),
                )
            )
    totals = [
        FlowTotal(
            period_start=p.start.isoformat(),
            period_end=p.end.isoformat(),
            inflow=_count(published["inflow"][1][p.start]),
            outflow=_count(published["outflow"][1][p.start]),
        )
        for p in found
    ]
    return Flows(
        start=found[0].start.isoformat(),
        end=found[-1].end.isoformat(),
        interval=interval,
        by=asked,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        rows=rows,
        totals=totals,
        suppressed=hiding
        and (any(r.inflow is None or r.outflow is None for r in rows) or _hidden(totals)),
    )


def _count(value: float | None) -> int | None:
    return None if value is None else int(value)


def _hidden(totals: list[FlowTotal]) -> bool:
    return any(t.inflow is None or t.outflow is None for t in totals)


def _published(
    months: dict[date, dict[Cell, int]],
    found: list[Period],
    asked: tuple[str, ...],
    finest: tuple[str, ...],
    k: int,
) -> tuple[dict[date, dict[Cell, float | None]], dict[date, float | None]]:
    """One flow's months protected (k = 0: nothing hidden) and summed into the periods."""
    tables: dict[date, MonthTable] = {
        month: additive_month(finest, cells) for month, cells in months.items()
    }
    return rolled_up(tables, found, asked, k)
