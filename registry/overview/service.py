"""Coverage and overlaps as of a date, current or as recorded, with disclosure control."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import InvalidInput, NotFound
from registry.overview.access import OVERVIEW_READERS, scope_sql, suppressing
from registry.overview.disclosure import DEFAULT_K, programme_pattern
from registry.overview.masking import (
    MEASURES,
    Beside,
    summary_beside,
    suppress_overlaps,
    suppressed_coverage,
)
from registry.overview.queries import (
    DIMENSION_SQL,
    PERIOD_ACTIVE,
    SUMMARY_COMBINATIONS,
    SUMMARY_COVERAGE,
    TIMESERIES,
    coverage_sql,
    overlaps_sql,
    persons_in_programmes_sql,
    system_time,
)
from registry.overview.schemas import (
    Counts,
    Coverage,
    CoverageRow,
    Overlaps,
    PersonInProgrammes,
    PersonsInProgrammes,
    Timeseries,
    TimeseriesRow,
    enrolment,
)
from registry.programmes.exclusivity import exclusive_pairs

DIMENSIONS = tuple(DIMENSION_SQL)


def parse_dimensions(by: str | Sequence[str]) -> list[str]:
    """The requested dimensions in order, without repeats; an unknown one is a 422 on `by`."""
    parts = by.split(",") if isinstance(by, str) else list(by)
    names = [p.strip() for p in parts if p.strip()]
    unknown = [n for n in names if n not in DIMENSION_SQL]
    if unknown or not names:
        message = (
            f"unknown dimension {', '.join(repr(u) for u in unknown)}"
            if unknown
            else "at least one dimension is required"
        ) + f"; `by` takes a comma-separated list of: {', '.join(DIMENSIONS)}"
        raise InvalidInput(
            f"invalid `by`: {message}",
            errors=[{"field": "by", "code": "invalid_dimension", "message": message}],
        )
    return list(dict.fromkeys(names))


def coverage(
    session: Session,
    principal: Principal,
    as_of: date,
    by: str | Sequence[str],
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Coverage:
    """Distinct persons receiving on a date and their enrolments, by the requested dimensions,
    with the persons suspended or pending (and not receiving) beside them."""
    principal.require(*OVERVIEW_READERS)
    dimensions = parse_dimensions(by)
    if suppressing(principal, suppress):
        rows, total, suppressed = suppressed_coverage(session, as_of, dimensions, recorded_at, k)
    else:
        found = None
        if recorded_at is None and sorted(dimensions) in (["programme"], ["programme", "region"]):
            found = _coverage_from_summary(session, as_of, dimensions)
        if found is None:
            found = _coverage_from_episodes(session, as_of, dimensions, recorded_at)
        rows, total = found
        suppressed = False
    return Coverage(
        as_of=as_of.isoformat(),
        by=dimensions,
        rows=[CoverageRow(**row) for row in rows],
        total=Counts(**total),
        suppressed=suppressed,
    )


Table = tuple[list[dict[str, Any]], dict[str, Any]]


def _coverage_from_episodes(
    session: Session, as_of: date, dimensions: list[str], recorded_at: datetime | None
) -> Table:
    """Coverage straight from the enrolment episodes (any dimensions, any system time)."""
    condition, params = system_time(recorded_at)
    result = session.execute(
        text(coverage_sql(dimensions, condition)), {"as_of": as_of, **params}
    ).all()
    rows: list[dict[str, Any]] = []
    total = dict.fromkeys(MEASURES, 0)
    for found in result:
        counts = {m: int(getattr(found, m)) for m in MEASURES}
        if found.is_total:
            total = counts
        else:
            rows.append({d: found[i] for i, d in enumerate(dimensions)} | counts)
    return rows, total


def _coverage_from_summary(session: Session, as_of: date, dimensions: list[str]) -> Table | None:
    """Coverage by programme (and region) from the person summary (receiving persons, and
    the beside ones from its beside segments); None while the summary is stale."""
    by_programme_only = dimensions == ["programme"]
    result = session.execute(
        text(SUMMARY_COVERAGE),
        {"as_of": as_of, "by_programme_only": by_programme_only, "margins": False},
    ).all()
    if any(r.kind == "stale" for r in result):
        return None
    dims = ("programme",) if by_programme_only else ("programme", "region")
    beside = summary_beside(session, as_of, [dims, ()])
    if beside is None:
        return None
    cells = {
        (r.code, r.region): (int(r.persons), int(r.enrolments)) for r in result if r.kind == "cell"
    }
    total_persons = next(int(r.persons) for r in result if r.kind == "total")
    total = {
        "persons": total_persons,
        "enrolments": sum(e for _, e in cells.values()),
    } | _beside_of(beside, (), ())
    rows: list[dict[str, Any]] = []
    if by_programme_only:
        persons = {r.code: int(r.persons) for r in result if r.kind == "programme"}
        enrolments: dict[str, int] = defaultdict(int)
        for (code, _), (_, n) in cells.items():
            enrolments[code] += n
        for (code,) in beside[dims]:
            persons.setdefault(code, 0)
        for code in sorted(persons):
            rows.append(
                {"programme": code, "persons": persons[code], "enrolments": enrolments[code]}
                | _beside_of(beside, dims, (code,))
            )
        return rows, total
    for cell in beside[dims]:
        cells.setdefault((cell[0], cell[1]), (0, 0))
    for (code, region), (persons_n, enrolments_n) in cells.items():
        values = {"programme": code, "region": region}
        rows.append(
            {d: values[d] for d in dimensions}
            | {"persons": persons_n, "enrolments": enrolments_n}
            | _beside_of(beside, dims, (code, region))
        )
    rows.sort(key=lambda r: tuple((r[d] is None, r[d] or "") for d in dimensions))
    return rows, total


def _beside_of(beside: Beside, part: tuple[str, ...], cell: tuple[Any, ...]) -> dict[str, int]:
    """The suspended and pending persons of one cell of the beside counts (0 when none)."""
    suspended, pending = beside.get(part, {}).get(cell, (0, 0))
    return {"suspended": suspended, "pending": pending}


def overlaps(
    session: Session,
    principal: Principal,
    as_of: date,
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Overlaps:
    """Persons active in both of each pair of programmes, and persons by number of programmes."""
    principal.require(*OVERVIEW_READERS)
    found = _overlaps_from_summary(session, as_of) if recorded_at is None else None
    if found is None:
        found = _overlaps_from_episodes(session, as_of, recorded_at)
    codes, matrix, by_count = found
    suppressed = False
    if suppressing(principal, suppress):
        suppressed = suppress_overlaps(matrix, by_count, k, set(exclusive_pairs(session)))
    return Overlaps(
        as_of=as_of.isoformat(),
        programmes=codes,
        matrix=matrix,
        by_count=by_count,
        suppressed=suppressed,
    )


OverlapCounts = tuple[list[str], dict[str, dict[str, int | None]], dict[str, int | None]]


def _overlaps_from_episodes(
    session: Session, as_of: date, recorded_at: datetime | None
) -> OverlapCounts:
    """The overlap matrix straight from the episodes (any system time)."""
    condition, params = system_time(recorded_at)
    result = session.execute(text(overlaps_sql(condition)), {"as_of": as_of, **params}).all()
    codes = sorted(r.a for r in result if r.kind == "programme")
    matrix: dict[str, dict[str, int | None]] = {a: dict.fromkeys(codes, 0) for a in codes}
    by_count: dict[str, int | None] = {}
    for r in result:
        if r.kind == "pair":
            matrix[r.a][r.b] = int(r.persons)
        elif r.kind == "count":
            by_count[r.a] = int(r.persons)
    return codes, matrix, dict(sorted(by_count.items(), key=lambda item: int(item[0])))


def _overlaps_from_summary(session: Session, as_of: date) -> OverlapCounts | None:
    """The overlap matrix from persons' programme combinations; None while stale."""
    result = session.execute(text(SUMMARY_COMBINATIONS), {"as_of": as_of}).all()
    if any(r.stale for r in result):
        return None
    names: dict[int, str] = {
        int(r.id): str(r.code) for r in session.execute(text("SELECT id, code FROM programme"))
    }
    codes = sorted(names.values())
    matrix: dict[str, dict[str, int | None]] = {a: dict.fromkeys(codes, 0) for a in codes}
    counts: dict[int, int] = defaultdict(int)
    for r in result:
        members = [names[i] for i in r.programme_ids]
        counts[len(members)] += int(r.persons)
        for a in members:
            row = matrix[a]
            for b in members:
                row[b] = (row[b] or 0) + int(r.persons)
    by_count: dict[str, int | None] = {str(n): counts[n] for n in sorted(counts)}
    return codes, matrix, by_count


MAX_LIST = 10_000


def persons_in_programmes(
    session: Session,
    principal: Principal,
    as_of: date,
    min_programmes: int = 2,
    recorded_at: datetime | None = None,
    limit: int = 1000,
    after: str | None = None,
) -> PersonsInProgrammes:
    """Persons (within the caller's regions) active in at least N programmes on a date."""
    principal.require("oversight")
    if min_programmes < 1:
        raise InvalidInput("min_programmes must be at least 1")
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}")
    try:
        start_after = str(uuid.UUID(after)) if after else str(uuid.UUID(int=0))
    except ValueError as exc:
        raise InvalidInput("after must be a person id from `next_after`") from exc
    condition, params = system_time(recorded_at)
    scope, scope_params = scope_sql(principal, "a.pid")
    result = session.execute(
        text(persons_in_programmes_sql(condition, scope)),
        {
            "as_of": as_of,
            "min_programmes": min_programmes,
            "after": start_after,
            "limit": limit + 1,
            **params,
            **scope_params,
        },
    ).all()
    persons = [
        PersonInProgrammes(
            person_id=str(r.pid),
            programmes=list(r.programmes),
            enrolments=[enrolment(g) for g in r.grants],
        )
        for r in result[:limit]
    ]
    return PersonsInProgrammes(
        as_of=as_of.isoformat(),
        min_programmes=min_programmes,
        persons=persons,
        next_after=persons[-1].person_id if len(result) > limit else None,
    )


INTERVALS = {"week": "1 week", "month": "1 month", "quarter": "3 months", "year": "1 year"}
MAX_PERIODS = 600


def timeseries(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    interval: str = "month",
    programme: str | None = None,
    basis: str = "during",
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Timeseries:
    """Distinct receiving persons per programme per week, month, quarter or year between two
    dates, with the suspended and pending persons beside them."""
    principal.require(*OVERVIEW_READERS)
    if interval not in INTERVALS:
        raise InvalidInput(f"interval must be one of {', '.join(INTERVALS)}")
    if basis not in PERIOD_ACTIVE:
        raise InvalidInput(f"basis must be one of {', '.join(PERIOD_ACTIVE)}")
    if end < start:
        raise InvalidInput("`to` is before `from`")
    days = {"week": 7, "month": 28, "quarter": 90, "year": 365}[interval]
    if (end - start).days // days > MAX_PERIODS:
        raise InvalidInput(f"at most {MAX_PERIODS} periods; choose a longer interval")
    condition, params = system_time(recorded_at)
    sql = TIMESERIES.format(system_time=condition, active=PERIOD_ACTIVE[basis])
    result = session.execute(
        text(sql),
        {
            "from": start,
            "to": end,
            "unit": interval,
            "step": INTERVALS[interval],
            "programme": programme,
            **params,
        },
    ).all()
    if programme is not None and not result:
        raise NotFound(f"programme {programme!r} does not exist")
    rows: list[dict[str, Any]] = [
        {
            "period_start": r.period_start.isoformat(),
            "period_end": r.period_end.isoformat(),
            "programme": r.programme,
            "persons": int(r.persons),
            "suspended": int(r.suspended),
            "pending": int(r.pending),
        }
        for r in result
    ]
    suppressed = False
    if suppressing(principal, suppress):
        # a period's counts are the coverage by programme of a day when the period is one day
        # (or basis=end): one pattern for both, from the same function
        periods: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            periods[r["period_start"]].append(r)
        for period in periods.values():
            for measure in ("persons", "suspended", "pending"):
                hidden = programme_pattern({r["programme"]: r[measure] for r in period}, k)
                for r in period:
                    if r["programme"] in hidden:
                        r[measure] = None
                        suppressed = True
    return Timeseries(
        start=start.isoformat(),
        end=end.isoformat(),
        interval=interval,
        basis=basis,
        programme=programme,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        rows=[TimeseriesRow(**row) for row in rows],
        suppressed=suppressed,
    )
