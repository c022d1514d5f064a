"""Episode durations: the receiving spells started in a range, observed on its last day.

A spell (see `episodes`) started between `from` and `to` has ended when its last day is on
or before `to`; its duration is last day - first day + 1. A spell still receiving after `to`
is open (censored): its time so far is `to` - first day + 1, and the median is Kaplan-Meier's
(the first duration at which the estimated share still receiving falls to one half or below;
none while it has not). Bands count ended spells by duration and open ones by time so far.
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
    OPEN_END,
    OPENS,
    SPELL_ORDER,
    SPELL_WINDOW,
    episodes_from,
    roomy,
)
from registry.overview.lattice import Cell, answer_pattern, finest_table
from registry.overview.periods import MOVEMENT_DIMENSIONS, dimension_sql, parse_by, periods
from registry.overview.protection import additive_month
from registry.overview.queries import system_time
from registry.overview.schemas import DurationBand, DurationRow, Durations

#: Duration bands: a name and the most days in it (None: no upper bound).
BANDS: tuple[tuple[str, int | None], ...] = (
    ("0-3m", 91),
    ("3-6m", 182),
    ("6-12m", 365),
    ("1-2y", 730),
    ("2y+", None),
)
STATES = ("ended", "open")


def band_of(days: int) -> str:
    """The band of a duration in days."""
    return next(name for name, most in BANDS if most is None or days <= most)


def durations_sql(dimensions: list[str], condition: str) -> str:
    """Spells started between :from and :to by cell, duration (capped at :to) and state."""
    inner = "".join(
        f"{dimension_sql(d)} AS d{i}, " for i, d in enumerate(dimensions) if d != "age_band"
    )
    ages = "age_band" in dimensions
    clause, pid = episodes_from(condition, [inner], persons=True, golden=ages)
    born = "gp.birth_date" if ages else "NULL"
    firsts = "".join(
        f"max(d{i}) FILTER (WHERE opens) AS d{i}, "
        for i, d in enumerate(dimensions)
        if d != "age_band"
    )
    outer = "".join(
        f"{dimension_sql(d, 's').replace('gp.birth_date', 'born')}, "
        if d == "age_band"
        else f"d{i}, "
        for i, d in enumerate(dimensions)
    )
    group_by = ", ".join(str(i + 1) for i in range(len(dimensions) + 2))
    return f"""
WITH x AS (
    SELECT {inner}{pid} AS pid, {born} AS born, e.programme_id AS prog,
           e.start_date AS s, COALESCE(e.end_date, {OPEN_END}) AS t
    {clause}
      AND e.start_date <= CAST(:to AS date) + 1
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date) - 1)
), w AS (
    SELECT x.*, {SPELL_WINDOW} FROM x {SPELL_ORDER}
), n AS (
    SELECT w.*, {OPENS} AS opens,
           count(*) FILTER (WHERE {OPENS}) OVER (PARTITION BY pid, prog ORDER BY s, t
                                                 ROWS UNBOUNDED PRECEDING) AS spell
    FROM w
), sp AS (
    SELECT {firsts}min(born) AS born, min(s) AS s, max(t) AS t
    FROM n GROUP BY pid, prog, spell
)
SELECT {outer}least(t, CAST(:to AS date)) - s + 1 AS days, t > CAST(:to AS date) AS open,
       count(*) AS n
FROM sp WHERE s BETWEEN CAST(:from AS date) AND CAST(:to AS date)
GROUP BY {group_by}
"""


def km_median(times: dict[int, tuple[int, int]]) -> int | None:
    """Kaplan-Meier median from {days: (ended, open)}; None while half still receive."""
    at_risk = sum(e + o for e, o in times.values())
    surviving = 1.0
    for days in sorted(times):
        ended, still = times[days]
        if ended:
            surviving *= 1 - ended / at_risk
            if surviving <= 0.5 + 1e-12:
                return days
        at_risk -= ended + still
    return None


def durations(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    by: str | Sequence[str] = "programme",
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Durations:
    """Durations of the receiving spells started in whole months between two dates."""
    principal.require(*OVERVIEW_READERS)
    asked = parse_by(by, MOVEMENT_DIMENSIONS)
    found = periods(start, end, "month")
    first, last = found[0].start, found[-1].end
    condition, params = system_time(recorded_at)
    finest = finest_table(tuple(asked))
    roomy(session)
    result = session.execute(
        text(durations_sql(list(finest), condition)), {"from": first, "to": last, **params}
    ).all()
    times: dict[Cell, dict[int, tuple[int, int]]] = {}
    counts: dict[Cell, int] = {}
    for row in result:
        named = dict(zip(finest, row[: len(finest)], strict=True))
        cell = tuple(named[d] for d in asked)
        ended, still = times.setdefault(cell, {}).get(int(row.days), (0, 0))
        n = int(row.n)
        times[cell][int(row.days)] = (ended + n * (not row.open), still + n * bool(row.open))
        key = (*row[: len(finest)], band_of(int(row.days)), "open" if row.open else "ended")
        counts[key] = counts.get(key, 0) + n
    hiding = suppressing(principal, suppress)
    hidden = _hidden(counts, finest, tuple(asked), k) if hiding else _Hidden()
    rows = []
    for cell in sorted(times, key=lambda c: [str(v or "") for v in c]):
        rows.append(_row(asked, cell, times[cell], hidden))
    return Durations(
        start=first.isoformat(),
        end=last.isoformat(),
        by=asked,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        bands=[name for name, _ in BANDS],
        rows=rows,
        suppressed=hidden.any(),
    )


class _Hidden:
    """The hidden cells of the three tables a durations answer publishes."""

    def __init__(
        self,
        spells: set[Cell] | None = None,
        states: set[Cell] | None = None,
        bands: set[Cell] | None = None,
    ) -> None:
        self.spells = spells or set()
        self.states = states or set()
        self.bands = bands or set()

    def any(self) -> bool:
        return bool(self.spells or self.states or self.bands)


def _hidden(
    counts: dict[Cell, int], finest: tuple[str, ...], asked: tuple[str, ...], k: int
) -> _Hidden:
    """Patterns of the tables by cell, cell x state and cell x band x state, as coverage's."""
    dims = (*finest, "duration_band", "state")
    table = additive_month(dims, counts).counts
    found = []
    for extra in ((), ("state",), ("duration_band", "state")):
        names = (*asked, *extra)
        published, pattern = answer_pattern(table, names, k)
        found.append(
            {tuple(dict(zip(published, c, strict=True))[d] for d in names) for c in pattern}
        )
    return _Hidden(*found)


def _row(
    asked: list[str], cell: Cell, times: dict[int, tuple[int, int]], hidden: _Hidden
) -> DurationRow:
    """One cell's counts, median and bands, hidden where the patterns say."""
    ended = sum(e for e, _ in times.values())
    still = sum(o for _, o in times.values())
    spells_hidden = cell in hidden.spells
    bands = []
    for name, _ in BANDS:
        in_band = [(e, o) for days, (e, o) in times.items() if band_of(days) == name]
        values = {"ended": sum(e for e, _ in in_band), "open": sum(o for _, o in in_band)}
        bands.append(
            DurationBand(
                band=name,
                **{s: None if (*cell, name, s) in hidden.bands else values[s] for s in STATES},
            )
        )
    return DurationRow(
        **dict(zip(asked, cell, strict=True)),
        spells=None if spells_hidden else ended + still,
        ended=None if (*cell, "ended") in hidden.states else ended,
        open=None if (*cell, "open") in hidden.states else still,
        median_days=None if spells_hidden else km_median(times),
        bands=bands,
    )
