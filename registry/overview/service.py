"""Coverage and overlaps as of a date, current or as recorded, with disclosure control."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.errors import InvalidInput
from registry.overview.queries import (
    AS_RECORDED,
    CURRENT,
    DIMENSION_SQL,
    coverage_sql,
    overlaps_sql,
)

OVERVIEW_READERS = ("oversight", "analyst")

#: Counts below this are suppressed for analysts and whenever suppression is asked for.
SUPPRESSION_THRESHOLD = 5

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


def _suppressing(principal: Principal, suppress: bool) -> bool:
    """Analysts always get suppressed answers; others when they ask for it."""
    return suppress or (principal.has_any("analyst") and not principal.has_any("oversight"))


def _complement_rank(key: K, values: dict[K, int], alone: set[K]) -> tuple[bool, bool, int, str]:
    """Prefer complements that are not alone in a group, not zero, and small."""
    return (key in alone, values[key] == 0, values[key], str(key))


def suppress_cells(values: dict[K, int], groups: Iterable[Iterable[K]], k: int) -> set[K]:
    """Cells to hide: those in 1..k-1, then more until no group has exactly one hidden cell."""
    hidden = {key for key, v in values.items() if 0 < v < k}
    members = [list(g) for g in groups]
    # A cell alone in a group equals that group's margin, so it makes a poor complement.
    alone = {g[0] for g in members if len(g) == 1}
    changed = True
    while changed:
        changed = False
        for group in members:
            if sum(1 for key in group if key in hidden) != 1:
                continue
            shown = [key for key in group if key not in hidden]
            if shown:
                hidden.add(min(shown, key=lambda key: _complement_rank(key, values, alone)))
                changed = True
    return hidden


def coverage(
    session: Session,
    principal: Principal,
    as_of: date,
    by: str | Sequence[str],
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> dict[str, Any]:
    """Distinct persons and enrolments active on a date, by the requested dimensions."""
    principal.require(*OVERVIEW_READERS)
    dimensions = parse_dimensions(by)
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
    suppressed = False
    if _suppressing(principal, suppress):
        suppressed = _suppress_coverage(rows, total, dimensions)
    return {
        "as_of": as_of.isoformat(),
        "by": dimensions,
        "rows": rows,
        "total": total,
        "suppressed": suppressed,
    }


def _suppress_coverage(
    rows: list[dict[str, Any]], total: dict[str, Any], dimensions: list[str]
) -> bool:
    """Hide small rows (both counts) with complementary cells; mutate rows and total in place."""
    k = SUPPRESSION_THRESHOLD
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
) -> dict[str, Any]:
    """Persons active in both of each pair of programmes, and persons by number of programmes."""
    principal.require(*OVERVIEW_READERS)
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
    by_count = dict(sorted(by_count.items(), key=lambda item: int(item[0])))
    suppressed = False
    if _suppressing(principal, suppress):
        suppressed = _suppress_overlaps(matrix, by_count)
    return {
        "as_of": as_of.isoformat(),
        "programmes": codes,
        "matrix": matrix,
        "by_count": by_count,
        "suppressed": suppressed,
    }


def _suppress_overlaps(
    matrix: dict[str, dict[str, int | None]], by_count: dict[str, int | None]
) -> bool:
    """Hide small overlap cells (symmetrically) and small by-count cells with complements."""
    k = SUPPRESSION_THRESHOLD
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
