"""Complementary suppression against every linear relation an attacker can write down.

Cells are unknowns; an *equation* is a published linear combination of cells (a margin, a
total, a by_count-weighted sum), a *secret* a combination that must stay unknown (a small
cell, a small margin). A secret is exposed when, with every visible cell known, it lies in
the row space of the equations restricted to the hidden cells. `protect` hides complements
until no secret is exposed, in a deterministic order, so equal inputs give equal patterns
(the answers that publish the same figures hide them alike).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from registry.core.settings import DEFAULT_SUPPRESSION_K

K = TypeVar("K", bound=Hashable)

#: A linear combination of cells: cell -> coefficient.
Combination = Mapping[K, int]

_TOLERANCE = 1e-8

#: Counts below k are suppressed for analysts and whenever suppression is asked for; the
#: deployment sets k with REGISTRY_SUPPRESSION_K (registry.core.settings), this is its default.
DEFAULT_K = DEFAULT_SUPPRESSION_K


def small(value: int | None, k: int) -> bool:
    """A count in 1..k-1: suppressed wherever it is published."""
    return value is not None and 0 < value < k


def total_is_secret(total: int | None, programme_sum: int | None, k: int) -> bool:
    """The day's total persons T is hidden: small, or sum(P_a) - T = sum((n-1) * by_count) is.

    Coverage by programme publishes every P_a; with T beside them the difference pins the
    persons in more than one programme (with two programmes: the overlap count).
    """
    if small(total, k):
        return True
    return total is not None and programme_sum is not None and small(programme_sum - total, k)


def _order(key: Hashable) -> str:
    return repr(key)


def exposed(
    hidden: Iterable[K], equations: Sequence[Combination[K]], secrets: Sequence[Combination[K]]
) -> list[int]:
    """Indices of the secrets that follow from the equations, every visible cell being known."""
    cells = sorted(set(hidden), key=_order)
    column = {key: j for j, key in enumerate(cells)}
    rows = []
    for equation in equations:
        row = {column[c]: v for c, v in equation.items() if c in column and v}
        if row:
            rows.append(row)
    # cells tied together by some equation form a component; each is solved on its own
    parent = list(range(len(cells)))

    def find(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    for row in rows:
        first, *rest = row
        for j in rest:
            parent[find(j)] = find(first)
    null_spaces: dict[int, tuple[list[int], np.ndarray]] = {}

    def null_space(root: int) -> tuple[list[int], np.ndarray]:
        if root not in null_spaces:
            members = [j for j in range(len(cells)) if find(j) == root]
            local = {j: i for i, j in enumerate(members)}
            block = [r for r in rows if find(next(iter(r))) == root]
            if not block:
                null_spaces[root] = (members, np.eye(len(members)))
            else:
                matrix = np.zeros((len(block), len(members)))
                for i, r in enumerate(block):
                    for j, v in r.items():
                        matrix[i, local[j]] = v
                _, singular, vt = np.linalg.svd(matrix)
                rank = int((singular > _TOLERANCE * max(matrix.shape)).sum())
                null_spaces[root] = (members, vt[rank:])
        return null_spaces[root]

    found = []
    for index, secret in enumerate(secrets):
        restricted = {column[c]: v for c, v in secret.items() if c in column and v}
        if not restricted:
            if any(v for v in secret.values()):
                found.append(index)
            continue
        determined = True
        for root in sorted({find(j) for j in restricted}):
            members, basis = null_space(root)
            vector = np.array([restricted.get(j, 0) for j in members], dtype=float)
            if basis.shape[0] and np.abs(basis @ vector).max() > _TOLERANCE * len(members):
                determined = False
                break
        if determined:
            found.append(index)
    return found


def protect(
    values: Mapping[K, int],
    primary: Iterable[K],
    equations: Sequence[Combination[K]],
    secrets: Sequence[Combination[K]] = (),
    candidates: Iterable[K] | None = None,
) -> set[K]:
    """The cells to hide: the primary ones, then complements until no secret is exposed.

    Every hidden cell of this table is itself a secret; `secrets` adds other combinations
    (small margins published elsewhere). Complements come from `candidates` (default: every
    cell), from an equation that touches an exposed secret: non-zero and small first. Where
    none is left the remaining exposure is the margins' own (the caller's known limit).
    """
    hidden = set(primary)
    allowed = set(values if candidates is None else candidates)
    ordered = sorted(equations, key=lambda e: sorted(map(_order, e)))

    def rank(key: K) -> tuple[bool, int, str]:
        return (values.get(key, 0) == 0, values.get(key, 0), _order(key))

    while True:
        # cheap rule first: an equation with one hidden cell gives that cell away
        changed = False
        for equation in ordered:
            inside = [c for c, v in equation.items() if v and c in hidden]
            if len(inside) != 1:
                continue
            shown = [c for c, v in equation.items() if v and c not in hidden and c in allowed]
            if shown:
                hidden.add(min(shown, key=rank))
                changed = True
        if changed:
            continue
        cells = sorted(hidden, key=_order)
        watched = [*({c: 1} for c in cells), *secrets]
        bad = [watched[i] for i in exposed(hidden, ordered, watched)]
        if not bad:
            return hidden
        touched = {c for secret in bad for c, v in secret.items() if v}
        pool = {
            c
            for equation in ordered
            if touched.intersection(c for c, v in equation.items() if v)
            for c, v in equation.items()
            if v and c not in hidden and c in allowed
        }
        pool |= {c for c in touched if c not in hidden and c in allowed}
        if not pool:
            return hidden
        hidden.add(min(pool, key=rank))


def programme_pattern(persons: Mapping[str, int], k: int) -> set[str]:
    """Programmes whose person count is hidden on a day: one pattern for every answer.

    Coverage by programme, the overlap diagonal and a time series' period publish the same
    counts; their sum is published too (the total, or the by_count-weighted sum), so the
    pattern protects against it. Zero counts are never hidden (a missing row is a zero).
    """
    cells = {p: v for p, v in sorted(persons.items()) if v}
    total = sum(cells.values())
    equations = [] if small(total, k) else [dict.fromkeys(cells, 1)]
    return protect(cells, [p for p, v in cells.items() if small(v, k)], equations)


def suppress_cells(values: dict[K, int], groups: Iterable[Iterable[K]], k: int) -> set[K]:
    """Cells to hide: those in 1..k-1, then complements until none is recoverable.

    Recoverable means determined by the published sums: those of the groups whose sum is not
    itself in 1..k-1 (a small margin is suppressed by the same rule in the query that
    publishes it, and must stay unrecoverable too). A cell some one-cell margin publishes is
    no use as a complement. Where no complement is left (degenerate tables) the remaining
    exposure could only be closed by cutting margins of other queries.
    """
    members = [list(dict.fromkeys(g)) for g in groups]
    published = [g for g in members if not small(sum(values[key] for key in g), k)]
    secrets = [dict.fromkeys(g, 1) for g in members if small(sum(values[key] for key in g), k)]
    pinned = {g[0] for g in published if len(g) == 1}
    return protect(
        values,
        [key for key, v in values.items() if small(v, k)],
        [dict.fromkeys(g, 1) for g in published],
        secrets,
        candidates=[key for key in values if key not in pinned],
    )
