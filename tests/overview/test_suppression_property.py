"""Property: no suppressed cell can be recovered from the margins and totals that are published."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.overview.service import DEFAULT_K, suppress_cells


def published(
    values: dict[tuple[int, ...], int], groups: list[list[tuple[int, ...]]], k: int
) -> list[list[tuple[int, ...]]]:
    """The margins an attacker sees: every group sum that is not itself in 1..k-1."""
    return [g for g in groups if not 0 < sum(values[key] for key in g) < k]


def recoverable(hidden: list[tuple[int, ...]], groups: list[list[tuple[int, ...]]]) -> set:
    """Hidden cells fixed by the group sums: exact Gaussian elimination over the rationals."""
    column = {key: j for j, key in enumerate(hidden)}
    rows = []
    for group in groups:
        if any(key in column for key in group):
            row = [Fraction(0)] * len(hidden)
            for key in group:
                if key in column:
                    row[column[key]] = Fraction(1)
            rows.append(row)
    # reduced row echelon form
    pivots: list[int] = []
    r = 0
    for c in range(len(hidden)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [v / rows[r][c] for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(c)
        r += 1
    # a cell is determined iff some row of the RREF is exactly its unit vector
    found = set()
    for row in rows[:r]:
        nonzero = [j for j, v in enumerate(row) if v != 0]
        if len(nonzero) == 1:
            found.add(hidden[nonzero[0]])
    return found


def margins(shape: tuple[int, ...], cells: set[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """Every one-dimensional slice (the margins other queries publish), and the total."""
    groups = []
    for free in range(len(shape)):
        others = [range(n) for j, n in enumerate(shape) if j != free]
        for fixed in product(*others):
            group = []
            for v in range(shape[free]):
                key = list(fixed)
                key.insert(free, v)
                if tuple(key) in cells:
                    group.append(tuple(key))
            if group:
                groups.append(group)
    return [*groups, sorted(cells)]


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[tuple[int, ...], int], list[list[tuple[int, ...]]]]:
    dims = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 5 if dims < 3 else 3)) for _ in range(dims))
    values = {}
    for key in product(*(range(n) for n in shape)):
        if draw(st.booleans()) or draw(st.booleans()):
            values[key] = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 30]))
    return values, margins(shape, set(values))


@settings(max_examples=400, deadline=None)
@given(tables(), st.integers(2, 8))
def test_no_suppressed_cell_is_recoverable_from_margins(table, k: int) -> None:
    values, groups = table
    hidden = suppress_cells(values, groups, k)
    # every small cell is hidden
    assert {key for key, v in values.items() if 0 < v < k} <= hidden
    # and no hidden cell follows from the published sums, unless every cell sharing a published
    # margin with it is hidden already (degenerate tables: then only the margins could be cut)
    margins_seen = published(values, groups, k)
    exposed = recoverable(sorted(hidden), margins_seen)
    published_cells = {g[0] for g in margins_seen if len(g) == 1}
    for key in exposed:
        around = {other for g in margins_seen if key in g for other in g} - published_cells
        assert around <= hidden, (values, sorted(hidden), key)


@settings(max_examples=300, deadline=None)
@given(tables())
def test_tables_with_room_for_complements_are_fully_protected(table) -> None:
    """With no one-cell margins and two cells of k or more per margin, nothing is recoverable."""
    values, groups = table
    k = DEFAULT_K
    margins_seen = published(values, groups, k)
    if any(len(g) < 2 for g in groups) or any(
        sum(1 for key in g if values[key] >= k) < 2 for g in margins_seen
    ):
        return
    hidden = suppress_cells(values, groups, k)
    assert not recoverable(sorted(hidden), margins_seen), (values, sorted(hidden))


def test_a_bridge_between_two_cycles_is_closed() -> None:
    """The simple rule (no group with one hidden cell) misses a cell fixed by two cycles."""
    #      c0 c1 c2 c3
    # r0    1  1  .  .      hidden cells form two 2x2 cycles joined by the cell (r1, c2):
    # r1    1  1  1  .      rows and columns each hold two or more hidden cells, yet (r1, c2)
    # r2    .  .  1  1      is fixed: every row and column sum is published.
    # r3    .  .  1  1
    small = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    values = {(r, c): (2 if (r, c) in small else 20) for r in range(4) for c in range(4)}
    groups = margins((4, 4), set(values))
    hidden = suppress_cells(values, groups, DEFAULT_K)
    assert small <= hidden
    assert not recoverable(sorted(hidden), published(values, groups, DEFAULT_K))
