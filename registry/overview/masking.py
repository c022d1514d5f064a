"""Suppressed coverage and overlap answers: fetch what the patterns weigh, then hide cells."""

from __future__ import annotations

from datetime import date, datetime
from math import comb
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.disclosure import programme_pattern, protect, small, total_is_secret
from registry.overview.lattice import Cell, Dims, answer_pattern, finest_table, subsets
from registry.overview.queries import SUMMARY_COVERAGE, coverage_cube_sql, system_time

#: Persons and enrolments per cell of each table (dimensions in the finest table's order).
Counts = dict[Dims, dict[Cell, tuple[int, int]]]


def suppressed_coverage(
    session: Session, as_of: date, dimensions: list[str], recorded_at: datetime | None, k: int
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Coverage rows and total with small cells and their complements hidden (None)."""
    asked = tuple(dimensions)
    finest = finest_table(asked)
    counts = None
    if recorded_at is None and sorted(finest) in (["programme"], ["programme", "region"]):
        counts = _summary_counts(session, as_of, finest)
    if counts is None:
        counts = _cube_counts(session, as_of, finest, recorded_at)
    tables = {part: {c: p for c, (p, _) in cells.items()} for part, cells in counts.items()}
    total_persons, total_enrolments = counts.get((), {}).get((), (0, 0))
    programmes = counts.get(("programme",))
    if programmes is None:
        programmes = _programme_counts(session, as_of, recorded_at)
    total_hidden = total_is_secret(total_persons, sum(p for p, _ in programmes.values()), k)
    finest, hidden = answer_pattern(tables, asked, k, total_hidden)
    rows = []
    for cell, (persons, enrolments) in counts.get(finest, {}).items():
        shown = cell not in hidden
        named = dict(zip(finest, cell, strict=True))
        rows.append(
            {d: named[d] for d in asked}
            | {"persons": persons if shown else None, "enrolments": enrolments if shown else None}
        )
    rows.sort(key=lambda r: tuple((r[d] is None, str(r[d] or "")) for d in asked))
    total = {
        "persons": None if total_hidden else total_persons,
        "enrolments": None if total_hidden else total_enrolments,
    }
    return rows, total, bool(hidden) or total_hidden


def _programme_counts(
    session: Session, as_of: date, recorded_at: datetime | None
) -> dict[Cell, tuple[int, int]]:
    """Persons and enrolments per programme on the day: from the summary when it is fresh."""
    dims = ("programme",)
    counts = _summary_counts(session, as_of, dims) if recorded_at is None else None
    if counts is None:
        counts = _cube_counts(session, as_of, dims, recorded_at)
    return counts[dims]


def _cube_counts(session: Session, as_of: date, dims: Dims, recorded_at: datetime | None) -> Counts:
    """Every table by a subset of the dimensions, from the episodes in one statement."""
    condition, params = system_time(recorded_at)
    parts = subsets(dims)
    sets = [tuple(dims.index(d) for d in part) for part in parts]
    sql = coverage_cube_sql(list(dims), sets, condition)
    counts: Counts = {part: {} for part in parts}
    n = len(dims)
    for row in session.execute(text(sql), {"as_of": as_of, **params}):
        present = tuple(i for i in range(n) if not int(row.mask) >> (n - 1 - i) & 1)
        part = tuple(dims[i] for i in present)
        counts[part][tuple(row[i] for i in present)] = (int(row.persons), int(row.enrolments))
    return counts


def _summary_counts(session: Session, as_of: date, dims: Dims) -> Counts | None:
    """The tables by programme (and region) and their margins from the summary; None if stale."""
    result = session.execute(
        text(SUMMARY_COVERAGE), {"as_of": as_of, "by_programme_only": False, "margins": True}
    ).all()
    if any(r.kind == "stale" for r in result):
        return None
    counts: Counts = {part: {} for part in subsets(dims)}
    enrolments_by: dict[tuple[str, Any], int] = {}
    for r in result:
        if r.kind != "cell":
            continue
        values = {"programme": r.code, "region": r.region}
        cell = tuple(values[d] for d in dims)
        before = counts[dims].get(cell, (0, 0))
        counts[dims][cell] = (before[0] + int(r.persons), before[1] + int(r.enrolments))
        for key in (("programme", r.code), ("region", r.region)):
            enrolments_by[key] = enrolments_by.get(key, 0) + int(r.enrolments)
    total_enrolments = sum(e for _, e in counts[dims].values())
    for r in result:
        if r.kind == "total":
            counts[()][()] = (int(r.persons), total_enrolments)
        elif r.kind == "programme" and ("programme",) in counts:
            counts[("programme",)][(r.code,)] = (
                int(r.persons),
                enrolments_by.get(("programme", r.code), 0),
            )
        elif r.kind == "region" and ("region",) in counts:
            counts[("region",)][(r.region,)] = (
                int(r.persons),
                enrolments_by.get(("region", r.region), 0),
            )
    return counts


def suppress_overlaps(
    matrix: dict[str, dict[str, int | None]],
    by_count: dict[str, int | None],
    k: int,
    exclusive: set[tuple[str, str]],
) -> bool:
    """Hide small overlaps and by-count cells, with complements against every relation.

    The diagonal is coverage by programme (one pattern, fixed here), the persons in all
    programmes coverage's total. Relations: the diagonal sums to sum(n * by_count), by_count
    to the total, the off-diagonal pairs to sum(C(n, 2) * by_count). Overlaps of exclusive
    pairs are published by the duplicates answer, so they are no use as complements.
    """
    diagonal = {a: int(matrix[a][a] or 0) for a in matrix}
    hidden_diagonal = programme_pattern(diagonal, k)
    values: dict[tuple[str, ...], int] = {("diagonal", a): v for a, v in diagonal.items()}
    for a, row in matrix.items():
        for b, v in row.items():
            if a < b:
                values[("pair", a, b)] = int(v or 0)
    counts = {n: int(v or 0) for n, v in by_count.items()}
    for n, v in counts.items():
        values[("count", n)] = v
    total = sum(counts.values())
    values[("total",)] = total
    Key = tuple[str, ...]
    diagonal_sum: dict[Key, int] = {("diagonal", a): 1 for a in diagonal}
    diagonal_sum |= {("count", n): -int(n) for n in counts}
    count_sum: dict[Key, int] = {("count", n): 1 for n in counts}
    count_sum[("total",)] = -1
    pair_sum: dict[Key, int] = {key: 1 for key in values if key[0] == "pair"}
    pair_sum |= {("count", n): -comb(int(n), 2) for n in counts if int(n) >= 2}
    equations = [diagonal_sum, count_sum, pair_sum]
    # the total is coverage's: hidden (and a secret) by the same rule as there
    fixed = {("diagonal", a) for a in hidden_diagonal} | (
        {("total",)} if total_is_secret(total, sum(diagonal.values()), k) else set()
    )
    pinned = {("pair", a, b) for a, b in exclusive if not small(values.get(("pair", a, b)), k)}
    hidden = protect(
        values,
        [key for key, v in values.items() if small(v, k) and key[0] in ("pair", "count")]
        + sorted(fixed),
        equations,
        candidates=[key for key in values if key[0] in ("pair", "count") and key not in pinned],
    )
    for a in hidden_diagonal:
        matrix[a][a] = None
    for key in hidden:
        if key[0] == "pair":
            matrix[key[1]][key[2]] = matrix[key[2]][key[1]] = None
        elif key[0] == "count":
            by_count[key[1]] = None
    return bool(hidden_diagonal or hidden)
