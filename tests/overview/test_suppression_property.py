"""Property: no suppressed cell can be recovered from the linear relations the answers publish."""

from __future__ import annotations

from fractions import Fraction
from itertools import product
from math import comb

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.overview.disclosure import (
    DEFAULT_K,
    programme_pattern,
    suppress_cells,
    total_is_secret,
)
from registry.overview.lattice import answer_pattern, finest_table, subsets
from registry.overview.masking import suppress_overlaps


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


# --------------------------------------------------------------------------------------------
# Every answer an analyst gets for one day, together: nested dimensions, margins, by_count.


def determined(equations: list[dict], target: dict) -> bool:
    """True when `target` lies in the row space of `equations` (exact, over the rationals)."""
    unknowns = sorted({u for e in [*equations, target] for u in e}, key=repr)

    def rank(rows: list[dict]) -> int:
        matrix = [[Fraction(row.get(u, 0)) for u in unknowns] for row in rows]
        r = 0
        for c in range(len(unknowns)):
            pivot = next((i for i in range(r, len(matrix)) if matrix[i][c] != 0), None)
            if pivot is None:
                continue
            matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
            for i in range(len(matrix)):
                if i != r and matrix[i][c] != 0:
                    f = matrix[i][c] / matrix[r][c]
                    matrix[i] = [a - f * b for a, b in zip(matrix[i], matrix[r], strict=True)]
            r += 1
        return r

    return rank(equations) == rank([*equations, target])


DIMS = ("programme", "benefit_code", "region")


@st.composite
def registries(draw: st.DrawFn) -> dict[tuple[str, str, str], int]:
    """Persons per (programme, benefit code, region); codes nest in programmes."""
    programmes = draw(st.integers(1, 3))
    regions = draw(st.integers(1, 3))
    found = {}
    for p in range(programmes):
        for c in range(draw(st.integers(1, 3))):
            for r in range(regions):
                n = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 30]))
                if n:
                    found[(f"P{p}", f"{p}.{c}", f"R{r}")] = n
    return found


def table(finest: dict[tuple[str, str, str], int], dims: tuple[str, ...]) -> dict:
    """Persons per cell by `dims` (each person in one finest cell, so counts add up)."""
    out: dict[tuple, int] = {}
    for key, n in finest.items():
        cell = tuple(key[DIMS.index(d)] for d in dims)
        out[cell] = out.get(cell, 0) + n
    return out


Equation = tuple[tuple[str, ...], dict]


def every_answer(finest: dict, k: int) -> tuple[list[Equation], list[tuple[str, Equation]]]:
    """The cells every coverage answer publishes, and the small cells it must hide, each with
    the table (dimensions) it was computed on."""
    equations: list[Equation] = []
    secrets: list[tuple[str, Equation]] = []
    for asked in subsets(DIMS):
        computed_on = finest_table(asked)
        tables = {part: table(finest, part) for part in subsets(computed_on)}
        on, hidden = answer_pattern(tables, asked, k)
        for cell, n in tables[on].items():
            members = {
                key: 1
                for key in finest
                if all(key[DIMS.index(d)] == v for d, v in zip(on, cell, strict=True))
            }
            if cell not in hidden:
                equations.append((on, members))
            elif 0 < n < k:
                secrets.append((f"by={','.join(asked)} {cell}", (on, members)))
    return equations, secrets


def closure(dims: tuple[str, ...]) -> frozenset[str]:
    """The dimensions a table by `dims` is computed on (a code brings its programme)."""
    return frozenset(dims) | ({"programme"} if "benefit_code" in dims else set())


def comparable(on: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """One table is a margin of the other (or they are the same table)."""
    return closure(other) <= closure(on) or closure(on) <= closure(other)


@settings(max_examples=150, deadline=None)
@given(registries(), st.integers(2, 6))
def test_no_coverage_cell_follows_from_every_answer_of_the_day(finest, k: int) -> None:
    """Tables by every subset of the dimensions (benefit codes nested in programmes): no
    small cell follows from the cells of every answer over its own table, its margins and
    the finer tables it is a margin of, all together.

    Known limits, stated here: where the data's own zeros tie two tables together (a region
    whose persons are all in one programme), a cell can follow from its coarser answers
    alone, which no complement inside a finer table can change; and tables neither of which
    is a margin of the other are only tied through their common margins in general.
    """
    equations, secrets = every_answer(finest, k)
    tables = {closure(other) for other, _ in equations}
    for name, (on, members) in secrets:
        lattice = [m for other, m in equations if comparable(on, other)]
        if determined(lattice, members):
            # only the limit may remain: the margins of some table holding this cell's
            # table fix it by themselves, whatever that table and finer ones hide
            assert any(
                determined([m for other, m in equations if closure(other) < fine], members)
                for fine in tables | {closure(on)}  # its own table, even with no cell shown
                if closure(on) <= fine
            ), (name, finest)


def test_the_nested_code_is_not_its_programme_minus_the_other_code() -> None:
    """The recovery from the issue: SEL85 = 1.12.0.1 + 1.12.0.2, by programme published."""
    finest = {("SEL85", "1.12.0.1", "1084"): 2, ("SEL85", "1.12.0.2", "1084"): 8}
    finest[("SEL104", "1.1", "1085")] = 6
    equations, secrets = every_answer(finest, DEFAULT_K)
    assert secrets
    for name, (_, members) in secrets:
        assert not determined([m for _, m in equations], members), name


@st.composite
def populations(draw: st.DrawFn) -> tuple[list[frozenset[str]], set[tuple[str, str]]]:
    """Persons as the sets of programmes they are active in, and exclusive pairs."""
    codes = [f"P{i}" for i in range(draw(st.integers(2, 4)))]
    kinds = draw(
        st.lists(st.frozensets(st.sampled_from(codes), min_size=1), min_size=1, max_size=5)
    )
    persons = [kind for kind in kinds for _ in range(draw(st.sampled_from([1, 2, 3, 4, 6, 9])))]
    pairs = [(a, b) for a in codes for b in codes if a < b]
    exclusive = set(draw(st.lists(st.sampled_from(pairs), max_size=2)))
    return persons, exclusive


@settings(max_examples=300, deadline=None)
@given(populations(), st.integers(2, 6))
def test_no_overlap_follows_from_by_count_and_the_diagonal(population, k: int) -> None:
    """Overlaps with coverage's totals and the duplicates' exclusive pairs: the diagonal sums
    to sum(n * by_count), by_count to the total, the pairs to sum(C(n, 2) * by_count)."""
    persons, exclusive = population
    codes = sorted(set().union(*persons))
    exclusive = {(a, b) for a, b in exclusive if a in codes and b in codes}
    matrix: dict[str, dict[str, int | None]] = {
        a: {b: sum(1 for s in persons if a in s and b in s) for b in codes} for a in codes
    }
    by_count: dict[str, int | None] = {}
    for s in persons:
        by_count[str(len(s))] = (by_count.get(str(len(s))) or 0) + 1
    truth = {("pair", a, b): matrix[a][b] for a in codes for b in codes if a <= b}
    truth |= {("count", n): v for n, v in by_count.items()}
    truth[("total",)] = len(persons)
    suppress_overlaps(matrix, by_count, k, exclusive)
    shown = {("pair", a, b): matrix[a][b] for a in codes for b in codes if a <= b}
    shown |= {("count", n): v for n, v in by_count.items()}
    programme_sum = sum(truth[("pair", a, a)] or 0 for a in codes)
    secret_total = total_is_secret(len(persons), programme_sum, k)
    # coverage hides the total by this rule; then it must not follow from the overlaps either
    shown[("total",)] = None if secret_total else len(persons)
    # coverage by programme publishes the diagonal with the same pattern
    assert {a for a in codes if matrix[a][a] is None} == programme_pattern(
        {a: truth[("pair", a, a)] for a in codes}, k
    )
    for a, b in exclusive:  # the duplicates answer shows these unless small
        if not 0 < truth[("pair", a, b)] < k:
            shown[("pair", a, b)] = truth[("pair", a, b)]
    counts = [n for n in by_count]
    relations: list[dict] = [
        {("pair", a, a): 1 for a in codes} | {("count", n): -int(n) for n in counts},
        {("count", n): 1 for n in counts} | {("total",): -1},
        {("pair", a, b): 1 for a in codes for b in codes if a < b}
        | {("count", n): -comb(int(n), 2) for n in counts if int(n) > 1},
    ]
    equations = relations + [{key: 1} for key, v in shown.items() if v is not None]
    # what the other answers publish on their own: coverage by programme the diagonal and the
    # total, the duplicates answer the overlaps of exclusive pairs
    coverage = relations + [{("pair", a, a): 1} for a in codes if matrix[a][a] is not None]
    coverage += [{("pair", a, b): 1} for a, b in exclusive if shown[("pair", a, b)] is not None]
    if shown[("total",)] is not None:
        coverage.append({("total",): 1})
    if secret_total:
        assert not determined(equations, {("total",): 1}), (persons, exclusive)
    for key, v in truth.items():
        if v is not None and 0 < v < k:
            assert shown[key] is None, key
            if determined(equations, {key: 1}):
                # Known limits: a published total (sum((n - 1) * by_count) = X >= k) with
                # counts absent on the day can still pin a small count (X = 2 * by_count[3]);
                # so can the total with the exclusive pairs' overlaps the duplicates answer
                # publishes (the answers are not suppressed jointly).
                assert shown[("total",)] is not None, (key, persons, exclusive)
                assert determined(coverage, {key: 1}), (key, persons, exclusive)


def test_two_programmes_do_not_give_their_overlap_away() -> None:
    """The recovery from the issue: P_a + P_b - T = 3 persons in both."""
    assert total_is_secret(23, 13 + 13, DEFAULT_K)
    assert not total_is_secret(23, 23, DEFAULT_K)  # no overlap: nothing to give away
    assert not total_is_secret(20, 30, DEFAULT_K)  # 10 in both: not small


@st.composite
def people(draw: st.DrawFn) -> list[tuple[frozenset[str], str, str]]:
    """Persons as (programmes, sex, region): some in two or three programmes."""
    kinds = draw(
        st.lists(
            st.tuples(
                st.frozensets(st.sampled_from(["P0", "P1", "P2"]), min_size=1),
                st.sampled_from(["F", "M"]),
                st.sampled_from(["R0", "R1", "R2"]),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return [kind for kind in kinds for _ in range(draw(st.sampled_from([1, 2, 3, 4, 6, 9])))]


@settings(max_examples=200, deadline=None)
@given(people(), st.integers(2, 6))
def test_a_secret_total_does_not_follow_from_the_tables_without_programme(
    persons: list[tuple[frozenset[str], str, str]], k: int
) -> None:
    """sum(P_a) - T small: T hidden in every answer, and the visible cells of every table by
    sex and region (whose persons add up to T) do not sum back to it."""
    dims = ("region", "sex")
    programme_sum = sum(len(p) for p, _, _ in persons)
    if not total_is_secret(len(persons), programme_sum, k):
        return
    finest: dict[tuple[str, ...], int] = {}
    for _, sex, region in persons:
        finest[(region, sex)] = finest.get((region, sex), 0) + 1
    tables = {
        part: {
            cell: sum(
                n for key, n in finest.items() if tuple(key[dims.index(d)] for d in part) == cell
            )
            for cell in {tuple(key[dims.index(d)] for d in part) for key in finest}
        }
        for part in subsets(dims)
    }
    equations = []
    pinned = set()  # cells a visible margin publishes alone (the data's zeros: limit 1)
    for asked in subsets(dims):
        if not asked:
            continue
        on, hidden = answer_pattern(tables, asked, k, True)
        for cell in tables[on]:
            if cell not in hidden:
                members = [
                    key
                    for key in finest
                    if all(key[dims.index(d)] == v for d, v in zip(on, cell, strict=True))
                ]
                equations.append(dict.fromkeys(members, 1))
                if len(members) == 1 and len(on) < len(dims):
                    pinned.add(members[0])
    total = dict.fromkeys(finest, 1)
    if determined(equations, total):
        # only through the stated limit: without the cells margins pin, T must not follow
        free = [e for e in equations if not (len(e) == 1 and next(iter(e)) in pinned)]
        assert pinned and not determined(free, total), (persons, k)


def test_the_diagonal_is_not_the_weighted_by_count_minus_the_others() -> None:
    """The recovery from the issue: SEL82's 2 persons = 18 - 10 - 6 with by_count {1: 6, 2: 6}."""
    matrix: dict[str, dict[str, int | None]] = {
        "SEL104": {"SEL104": 6, "SEL82": 0, "SEL85": 6},
        "SEL82": {"SEL104": 0, "SEL82": 2, "SEL85": 0},
        "SEL85": {"SEL104": 6, "SEL82": 0, "SEL85": 10},
    }
    by_count: dict[str, int | None] = {"1": 6, "2": 6}
    suppress_overlaps(matrix, by_count, DEFAULT_K, set())
    diagonal = {a: matrix[a][a] for a in matrix}
    assert diagonal["SEL82"] is None
    if all(v is not None for v in by_count.values()):
        weighted = sum(int(n) * (v or 0) for n, v in by_count.items())
        assert weighted - sum(v for v in diagonal.values() if v is not None) != 2
