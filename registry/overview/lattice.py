"""Suppression of a coverage table consistent with every coarser coverage answer.

A coverage table by dimensions S is published together with its margins: the tables by
every subset of S (the total is the empty subset). Each of those is an answer the same
analyst gets for the same date, suppressed by this same procedure, smallest first. A table's
pattern therefore takes the coarser tables' patterns as given: their visible cells are
equations, their small cells secrets, and its own complements keep both unrecoverable. Any
set of answers is covered by the analysis of their union's table, whose margins they are.

Benefit codes nest in programmes: where every code on the day belongs to one programme, a
table by benefit code is the table by programme and benefit code (same cells), so the two
share one pattern and the programme totals are among its margins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from registry.overview.disclosure import programme_pattern, protect, small

Cell = tuple[Any, ...]
Dims = tuple[str, ...]
#: Persons per cell for each table (dimensions in the order of the finest table).
Tables = Mapping[Dims, Mapping[Cell, int]]


def subsets(dims: Sequence[str]) -> list[Dims]:
    """Every subset of the dimensions, in their order, smallest first."""
    return [c for n in range(len(dims) + 1) for c in combinations(dims, n)]


def nested(tables: Tables, dims: Dims) -> bool:
    """True when each benefit code on the day belongs to one programme only."""
    if "programme" not in dims or "benefit_code" not in dims:
        return False
    pair = tuple(d for d in dims if d in ("programme", "benefit_code"))
    where = pair.index("benefit_code")
    codes = [cell[where] for cell in tables.get(pair, {})]
    return len(codes) == len(set(codes))


def closed(dims: Dims, nesting: bool) -> list[Dims]:
    """The distinct tables among the subsets: with nesting, a code implies its programme."""
    return [
        s for s in subsets(dims) if not (nesting and "benefit_code" in s and "programme" not in s)
    ]


def finest_table(asked: Dims) -> Dims:
    """The table an answer by `asked` is computed on: benefit codes bring their programme.

    Its dimensions are in one canonical (sorted) order, so that every request for the same
    table, in whatever order it names them, gets the same pattern.
    """
    extra = ("programme",) if "benefit_code" in asked else ()
    return tuple(sorted({*asked, *extra}))


def answer_pattern(
    tables: Tables, asked: Dims, k: int, total_secret: bool = False
) -> tuple[Dims, set[Cell]]:
    """The table an answer by `asked` is cut from, and its hidden cells.

    `tables` holds every subset of `finest_table(asked)`; where codes do not nest in
    programmes the answer is its own table. `total_secret`: the total is hidden and must stay
    unrecoverable (`disclosure.total_is_secret`), not only when it is small.
    """
    finest = finest_table(asked)
    nesting = nested(tables, finest)
    if not nesting:
        finest = tuple(sorted(asked))
    return finest, table_pattern(tables, finest, k, nesting, total_secret)


def _project(dims: Dims, part: Dims) -> list[int]:
    return [dims.index(d) for d in part]


def table_pattern(
    tables: Tables, dims: Dims, k: int, nesting: bool, total_secret: bool = False
) -> set[Cell]:
    """The hidden cells of the table by `dims`, given every coarser table's pattern."""
    patterns: dict[Dims, set[Cell]] = {}
    for part in closed(dims, nesting):
        patterns[part] = _pattern(tables, part, k, patterns, total_secret)
    return patterns[dims]


def additive(dims: Dims) -> bool:
    """The persons of a table by `dims` add up to the total: no dimension a person has many of.

    A person counts once in each of their programmes (and benefit codes), so those tables'
    persons add up to the sum over programmes, not to the total.
    """
    return "programme" not in dims and "benefit_code" not in dims


def _pattern(
    tables: Tables, dims: Dims, k: int, coarser: dict[Dims, set[Cell]], total_secret: bool
) -> set[Cell]:
    cells = dict(tables.get(dims, {}))
    if not dims:
        return {c for c, v in cells.items() if small(v, k) or total_secret}
    if dims == ("programme",):
        persons = {str(c[0]): v for c, v in cells.items()}
        return {c for c in cells if str(c[0]) in programme_pattern(persons, k)}
    equations: dict[frozenset[Cell], dict[Cell, int]] = {}
    secrets: dict[frozenset[Cell], dict[Cell, int]] = {}
    for part, hidden in coarser.items():
        if part == dims or not set(part) < set(dims):
            continue
        where = _project(dims, part)
        groups: dict[Cell, list[Cell]] = {}
        for cell in cells:
            groups.setdefault(tuple(cell[i] for i in where), []).append(cell)
        margin = tables.get(part, {})
        for key, members in groups.items():
            combination = dict.fromkeys(members, 1)
            if key in hidden:
                if small(margin.get(key), k) or (not part and total_secret and additive(dims)):
                    secrets[frozenset(members)] = combination
            else:
                equations[frozenset(members)] = combination
    # a cell some visible margin publishes on its own is no use as a complement
    pinned = {next(iter(m)) for m in equations if len(m) == 1}
    return protect(
        cells,
        [c for c, v in cells.items() if small(v, k)],
        list(equations.values()),
        list(secrets.values()),
        candidates=[c for c in cells if c not in pinned],
    )
