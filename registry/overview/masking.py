"""Suppressed coverage and overlap answers: fetch what the patterns weigh, then hide cells."""

from __future__ import annotations

from datetime import date, datetime
from math import comb
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.disclosure import programme_pattern, protect, small, total_is_secret
from registry.overview.lattice import Cell, Dims, answer_pattern, finest_table, subsets
from registry.overview.queries import (
    SUMMARY_BESIDE,
    SUMMARY_COVERAGE,
    coverage_cube_sql,
    system_time,
)

#: Receiving persons, enrolments, suspended and pending persons per cell of each table
#: (dimensions in the finest table's order).
Counts = dict[Dims, dict[Cell, tuple[int, int, int, int]]]
#: The measures of a coverage cell, in the order of `Counts`' tuples.
MEASURES = ("persons", "enrolments", "suspended", "pending")
#: The person measures, each suppressed as its own lattice of tables (no published figure
#: ties one to another: a cell's persons of all classes together are never published).
PERSON_MEASURES = {"persons": 0, "suspended": 2, "pending": 3}


def suppressed_coverage(
    session: Session, as_of: date, dimensions: list[str], recorded_at: datetime | None, k: int
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Coverage rows and total with small cells and their complements hidden (None).

    Receiving persons (with their enrolments), suspended and pending persons are three
    tables over the same cells, each suppressed by the same procedure against its own margins.
    """
    asked = tuple(dimensions)
    finest = finest_table(asked)
    counts = None
    if recorded_at is None and sorted(finest) in (["programme"], ["programme", "region"]):
        counts = summary_counts(session, as_of, finest)
    if counts is None:
        counts = cube_counts(session, as_of, finest, recorded_at)
    programmes = counts.get(("programme",))
    if programmes is None:
        programmes = _programme_counts(session, as_of, recorded_at)
    total = counts.get((), {}).get((), (0, 0, 0, 0))
    hidden: dict[str, set[Cell]] = {}
    total_hidden: dict[str, bool] = {}
    on: Dims = finest
    for measure, i in PERSON_MEASURES.items():
        tables = {part: {c: v[i] for c, v in cells.items()} for part, cells in counts.items()}
        secret = total_is_secret(total[i], sum(v[i] for v in programmes.values()), k)
        on, hidden[measure] = answer_pattern(tables, asked, k, secret)
        total_hidden[measure] = secret
    rows = []
    for cell, values in counts.get(on, {}).items():
        named = dict(zip(on, cell, strict=True))
        shown: dict[str, int | None] = dict(zip(MEASURES, values, strict=True))
        for measure in PERSON_MEASURES:
            if cell in hidden[measure]:
                shown[measure] = None
        if shown["persons"] is None:
            shown["enrolments"] = None
        rows.append({d: named[d] for d in asked} | shown)
    rows.sort(key=lambda r: tuple((r[d] is None, str(r[d] or "")) for d in asked))
    totals: dict[str, Any] = dict(zip(MEASURES, total, strict=True))
    for measure in PERSON_MEASURES:
        if total_hidden[measure]:
            totals[measure] = None
    if total_hidden["persons"]:
        totals["enrolments"] = None
    suppressed = any(hidden.values()) or any(total_hidden.values())
    return rows, totals, suppressed


def _programme_counts(
    session: Session, as_of: date, recorded_at: datetime | None
) -> dict[Cell, tuple[int, int, int, int]]:
    """Counts per programme on the day: from the summary when it is fresh."""
    dims = ("programme",)
    counts = summary_counts(session, as_of, dims) if recorded_at is None else None
    if counts is None:
        counts = cube_counts(session, as_of, dims, recorded_at)
    return counts[dims]


def cube_counts(session: Session, as_of: date, dims: Dims, recorded_at: datetime | None) -> Counts:
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
        counts[part][tuple(row[i] for i in present)] = (
            int(row.persons),
            int(row.enrolments),
            int(row.suspended),
            int(row.pending),
        )
    return counts


#: The summary's beside levels (GROUPING(programme, region)) and the table each belongs to.
LEVELS: dict[int, Dims] = {0: ("programme", "region"), 1: ("programme",), 2: ("region",), 3: ()}

#: Suspended and pending persons per cell of each table by programme and/or region.
Beside = dict[Dims, dict[Cell, tuple[int, int]]]


def summary_beside(session: Session, as_of: date, parts: list[Dims]) -> Beside | None:
    """Suspended and pending persons per cell of the tables `parts` (by programme and/or
    region, () the total), from the summary's beside segments; None while it is stale."""
    levels = [level for level, part in LEVELS.items() if part in parts]
    result = session.execute(text(SUMMARY_BESIDE), {"as_of": as_of, "levels": levels}).all()
    if any(r.stale for r in result):
        return None
    beside: Beside = {part: {} for part in LEVELS.values()}
    for r in result:
        part = LEVELS[int(r.level)]
        values = {"programme": r.code, "region": r.region}
        cell = tuple(values[d] for d in part)
        suspended, pending = beside[part].get(cell, (0, 0))
        if r.status == "suspended":
            suspended += int(r.persons)
        else:
            pending += int(r.persons)
        beside[part][cell] = (suspended, pending)
    return beside


def summary_counts(session: Session, as_of: date, dims: Dims) -> Counts | None:
    """The tables by programme (and region) and their margins: receiving persons from the
    summary, suspended and pending persons from its beside segments; None if stale."""
    result = session.execute(
        text(SUMMARY_COVERAGE), {"as_of": as_of, "by_programme_only": False, "margins": True}
    ).all()
    if any(r.kind == "stale" for r in result):
        return None
    receiving: dict[Dims, dict[Cell, tuple[int, int]]] = {part: {} for part in subsets(dims)}
    enrolments_by: dict[tuple[str, Any], int] = {}
    for r in result:
        if r.kind != "cell":
            continue
        values = {"programme": r.code, "region": r.region}
        cell = tuple(values[d] for d in dims)
        before = receiving[dims].get(cell, (0, 0))
        receiving[dims][cell] = (before[0] + int(r.persons), before[1] + int(r.enrolments))
        for key in (("programme", r.code), ("region", r.region)):
            enrolments_by[key] = enrolments_by.get(key, 0) + int(r.enrolments)
    total_enrolments = sum(e for _, e in receiving[dims].values())
    for r in result:
        if r.kind == "total":
            receiving[()][()] = (int(r.persons), total_enrolments)
        elif r.kind == "programme" and ("programme",) in receiving:
            receiving[("programme",)][(r.code,)] = (
                int(r.persons),
                enrolments_by.get(("programme", r.code), 0),
            )
        elif r.kind == "region" and ("region",) in receiving:
            receiving[("region",)][(r.region,)] = (
                int(r.persons),
                enrolments_by.get(("region", r.region), 0),
            )
    beside = summary_beside(session, as_of, list(receiving))
    if beside is None:
        return None
    counts: Counts = {}
    for part, cells in receiving.items():
        others = beside.get(part, {})
        counts[part] = {
            cell: (*cells.get(cell, (0, 0)), *others.get(cell, (0, 0)))
            for cell in {**cells, **others}
        }
    counts[()].setdefault((), (0, 0, 0, 0))
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
