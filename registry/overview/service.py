"""Coverage and overlaps as of a date, current or as recorded, with disclosure control."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.errors import InvalidInput, NotFound
from registry.overview.queries import (
    AS_RECORDED,
    CURRENT,
    DIMENSION_SQL,
    PERIOD_ACTIVE,
    SUMMARY_COMBINATIONS,
    SUMMARY_COVERAGE,
    TIMESERIES,
    coverage_sql,
    overlaps_sql,
    persons_in_programmes_sql,
)

OVERVIEW_READERS = ("oversight", "analyst")

#: Counts below k are suppressed for analysts and whenever suppression is asked for; the
#: deployment sets k with REGISTRY_SUPPRESSION_K (registry.settings), this is its default.
DEFAULT_K = 5
SUPPRESSION_THRESHOLD = DEFAULT_K

DIMENSIONS = tuple(DIMENSION_SQL)

K = TypeVar("K", bound=Hashable)


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


def _system_time(recorded_at: datetime | None) -> tuple[str, dict[str, Any]]:
    """The system-time condition and its parameters: current rows, or as recorded at a time."""
    if recorded_at is None:
        return CURRENT, {}
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return AS_RECORDED, {"recorded_at": recorded_at}


def suppressing(principal: Principal, suppress: bool) -> bool:
    """Analysts always get suppressed answers; others when they ask for it."""
    return suppress or (principal.has_any("analyst") and not principal.has_any("oversight"))


def _complement_rank(key: K, values: dict[K, int], alone: set[K]) -> tuple[bool, bool, int, str]:
    """Prefer complements that are not alone in a group, not zero, and small."""
    return (key in alone, values[key] == 0, values[key], str(key))


def determined_cells(hidden: Iterable[K], groups: Iterable[Iterable[K]]) -> set[K]:
    """Hidden cells whose value follows from the sums of the groups (linear algebra).

    Each group publishes its sum; a hidden cell is recoverable exactly when its unit vector lies
    in the row space of the groups restricted to the hidden cells.
    """
    cells = sorted(set(hidden), key=str)
    if not cells:
        return set()
    column = {key: j for j, key in enumerate(cells)}
    rows = []
    for group in groups:
        members = list(dict.fromkeys(group))
        inside = [column[key] for key in members if key in column]
        if inside:
            row = np.zeros(len(cells))
            row[inside] = 1.0
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * max(matrix.shape)).sum())
    null_space = vt[rank:]
    if null_space.shape[0] == 0:
        return set(cells)
    free = np.abs(null_space).max(axis=0) > 1e-9
    return {key for key, j in column.items() if not free[j]}


def suppress_cells(values: dict[K, int], groups: Iterable[Iterable[K]], k: int) -> set[K]:
    """Cells to hide: those in 1..k-1, then complements until no hidden cell is recoverable.

    Recoverable means determined by the published sums: those of the groups whose sum is not
    itself in 1..k-1 (a small margin is suppressed by the same rule in the query that publishes
    it). Complements come from a group of a recoverable cell: never a cell some one-cell margin
    publishes, preferably not zero, smallest first. Where no complement is left (degenerate
    tables) the remaining exposure could only be closed by cutting margins of other queries.
    """
    hidden = {key for key, v in values.items() if 0 < v < k}
    members = [list(dict.fromkeys(g)) for g in groups]
    # A margin in 1..k-1 is itself suppressed where it is published, so it gives nothing away;
    # every other margin is published, a one-cell margin publishing that very cell.
    published = [g for g in members if not 0 < sum(values[key] for key in g) < k]
    # A cell whose value some margin publishes is no use as a complement.
    useless = {g[0] for g in published if len(g) == 1}
    shared = [g for g in published if len(g) > 1]
    while True:
        changed = False
        for group in shared:
            if sum(1 for key in group if key in hidden) != 1:
                continue
            shown = [key for key in group if key not in hidden and key not in useless]
            if shown:
                hidden.add(min(shown, key=lambda key: _complement_rank(key, values, useless)))
                changed = True
        if changed:
            continue
        exposed = determined_cells(hidden, published)
        candidates = {
            key
            for group in shared
            if exposed.intersection(group)
            for key in group
            if key not in hidden and key not in useless
        }
        if not candidates:
            return hidden
        hidden.add(min(candidates, key=lambda key: _complement_rank(key, values, useless)))


def coverage(
    session: Session,
    principal: Principal,
    as_of: date,
    by: str | Sequence[str],
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Distinct persons and enrolments active on a date, by the requested dimensions."""
    principal.require(*OVERVIEW_READERS)
    dimensions = parse_dimensions(by)
    found = None
    if recorded_at is None and sorted(dimensions) in (["programme"], ["programme", "region"]):
        found = _coverage_from_summary(session, as_of, dimensions)
    if found is None:
        found = _coverage_from_episodes(session, as_of, dimensions, recorded_at)
    rows, total = found
    suppressed = False
    if suppressing(principal, suppress):
        suppressed = _suppress_coverage(rows, total, dimensions, k)
    return {
        "as_of": as_of.isoformat(),
        "by": dimensions,
        "rows": rows,
        "total": total,
        "suppressed": suppressed,
    }


Table = tuple[list[dict[str, Any]], dict[str, Any]]


def _coverage_from_episodes(
    session: Session, as_of: date, dimensions: list[str], recorded_at: datetime | None
) -> Table:
    """Coverage straight from the enrolment episodes (any dimensions, any system time)."""
    condition, params = _system_time(recorded_at)
    result = session.execute(
        text(coverage_sql(dimensions, condition)), {"as_of": as_of, **params}
    ).all()
    rows: list[dict[str, Any]] = []
    total = {"persons": 0, "enrolments": 0}
    for found in result:
        counts = {"persons": int(found.persons), "enrolments": int(found.enrolments)}
        if found.is_total:
            total = counts
        else:
            rows.append({d: found[i] for i, d in enumerate(dimensions)} | counts)
    return rows, total


def _coverage_from_summary(session: Session, as_of: date, dimensions: list[str]) -> Table | None:
    """Coverage by programme (and region) from the person summary; None while it is stale."""
    by_programme_only = dimensions == ["programme"]
    result = session.execute(
        text(SUMMARY_COVERAGE), {"as_of": as_of, "by_programme_only": by_programme_only}
    ).all()
    if any(r.kind == "stale" for r in result):
        return None
    cells = {
        (r.code, r.region): (int(r.persons), int(r.enrolments)) for r in result if r.kind == "cell"
    }
    total_persons = next(int(r.persons) for r in result if r.kind == "total")
    total = {"persons": total_persons, "enrolments": sum(e for _, e in cells.values())}
    rows: list[dict[str, Any]] = []
    if by_programme_only:
        persons = {r.code: int(r.persons) for r in result if r.kind == "programme"}
        enrolments: dict[str, int] = defaultdict(int)
        for (code, _), (_, n) in cells.items():
            enrolments[code] += n
        for code in sorted(persons):
            rows.append(
                {"programme": code, "persons": persons[code], "enrolments": enrolments[code]}
            )
        return rows, total
    for (code, region), (persons_n, enrolments_n) in cells.items():
        values = {"programme": code, "region": region}
        rows.append(
            {d: values[d] for d in dimensions} | {"persons": persons_n, "enrolments": enrolments_n}
        )
    rows.sort(key=lambda r: tuple((r[d] is None, r[d] or "") for d in dimensions))
    return rows, total


def _suppress_coverage(
    rows: list[dict[str, Any]], total: dict[str, Any], dimensions: list[str], k: int
) -> bool:
    """Hide small rows (both counts) with complementary cells; mutate rows and total in place."""
    values: dict[int, int] = {i: min(r["persons"], r["enrolments"]) for i, r in enumerate(rows)}
    # Every slice that fixes all dimensions but one sums to a margin another query publishes;
    # with one dimension that slice is the whole table, which sums to the total.
    groups: dict[tuple[int, tuple[Any, ...]], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for free in range(len(dimensions)):
            fixed = tuple(row[d] for j, d in enumerate(dimensions) if j != free)
            groups[(free, fixed)].append(i)
    slices = [*groups.values(), list(values)]
    hidden = suppress_cells(values, slices, k)
    for i in hidden:
        rows[i]["persons"] = None
        rows[i]["enrolments"] = None
    small_total = False
    for measure in ("persons", "enrolments"):
        if 0 < total[measure] < k:
            total[measure] = None
            small_total = True
    return bool(hidden) or small_total


def overlaps(
    session: Session,
    principal: Principal,
    as_of: date,
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Persons active in both of each pair of programmes, and persons by number of programmes."""
    principal.require(*OVERVIEW_READERS)
    found = _overlaps_from_summary(session, as_of) if recorded_at is None else None
    if found is None:
        found = _overlaps_from_episodes(session, as_of, recorded_at)
    codes, matrix, by_count = found
    suppressed = False
    if suppressing(principal, suppress):
        suppressed = _suppress_overlaps(matrix, by_count, k)
    return {
        "as_of": as_of.isoformat(),
        "programmes": codes,
        "matrix": matrix,
        "by_count": by_count,
        "suppressed": suppressed,
    }


Overlaps = tuple[list[str], dict[str, dict[str, int | None]], dict[str, int | None]]


def _overlaps_from_episodes(
    session: Session, as_of: date, recorded_at: datetime | None
) -> Overlaps:
    """The overlap matrix straight from the episodes (any system time)."""
    condition, params = _system_time(recorded_at)
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


def _overlaps_from_summary(session: Session, as_of: date) -> Overlaps | None:
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


def _suppress_overlaps(
    matrix: dict[str, dict[str, int | None]], by_count: dict[str, int | None], k: int
) -> bool:
    """Hide small overlap cells (symmetrically) and small by-count cells with complements."""
    pairs: dict[tuple[str, str], int] = {}
    for a, row in matrix.items():
        for b, v in row.items():
            if a <= b and v is not None:
                pairs[(a, b)] = v
    # Each programme's row of overlaps, read against its diagonal, is one group.
    rows = [[key for key in pairs if a in key and key != (a, a)] for a in matrix]
    hidden_pairs = suppress_cells(pairs, rows, k)
    for a, b in hidden_pairs:
        matrix[a][b] = matrix[b][a] = None
    counts: dict[str, int] = {key: v for key, v in by_count.items() if v is not None}
    hidden_counts = suppress_cells(counts, [list(counts)], k)
    for key in hidden_counts:
        by_count[key] = None
    return bool(hidden_pairs or hidden_counts)


def scope_sql(principal: Principal, person: str) -> tuple[str, dict[str, Any]]:
    """SQL condition: the resolved person `person` has a record in one of the caller's regions."""
    if principal.all_regions:
        return "true", {}
    condition = f"""EXISTS (
        SELECT 1 FROM source_record sr JOIN person sp ON sp.id = sr.person_id
        WHERE COALESCE(sp.merged_into, sp.id) = {person}
          AND sr.region = ANY(CAST(:scope_regions AS text[])))"""
    return condition, {"scope_regions": sorted(principal.regions)}


MAX_LIST = 10_000


def persons_in_programmes(
    session: Session,
    principal: Principal,
    as_of: date,
    min_programmes: int = 2,
    recorded_at: datetime | None = None,
    limit: int = 1000,
    after: str | None = None,
) -> dict[str, Any]:
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
    condition, params = _system_time(recorded_at)
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
        {
            "person_id": str(r.pid),
            "programmes": list(r.programmes),
            "enrolments": [
                {
                    "programme": g["programme"],
                    "source_id": g["source_id"],
                    "benefit_code": g["benefit_code"],
                    "start_date": g["start_date"],
                    "end_date": g["end_date"],
                    "region": g["region"],
                }
                for g in r.grants
            ],
        }
        for r in result[:limit]
    ]
    return {
        "as_of": as_of.isoformat(),
        "min_programmes": min_programmes,
        "persons": persons,
        "next_after": persons[-1]["person_id"] if len(result) > limit else None,
    }


INTERVALS = {"week": "1 week", "month": "1 month", "quarter": "3 months"}
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
) -> dict[str, Any]:
    """Distinct active persons per programme per week, month or quarter between two dates."""
    principal.require(*OVERVIEW_READERS)
    if interval not in INTERVALS:
        raise InvalidInput(f"interval must be one of {', '.join(INTERVALS)}")
    if basis not in PERIOD_ACTIVE:
        raise InvalidInput(f"basis must be one of {', '.join(PERIOD_ACTIVE)}")
    if end < start:
        raise InvalidInput("`to` is before `from`")
    days = {"week": 7, "month": 28, "quarter": 90}[interval]
    if (end - start).days // days > MAX_PERIODS:
        raise InvalidInput(f"at most {MAX_PERIODS} periods; choose a longer interval")
    condition, params = _system_time(recorded_at)
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
        }
        for r in result
    ]
    suppressed = False
    if suppressing(principal, suppress):
        values = {i: int(r["persons"]) for i, r in enumerate(rows)}
        periods: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            periods[r["period_start"]].append(i)
        hidden = suppress_cells(values, periods.values(), k)
        for i in hidden:
            rows[i]["persons"] = None
        suppressed = bool(hidden)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "interval": interval,
        "basis": basis,
        "programme": programme,
        "recorded_at": recorded_at.isoformat() if recorded_at else None,
        "rows": rows,
        "suppressed": suppressed,
    }
