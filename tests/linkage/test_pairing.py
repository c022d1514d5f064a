"""Candidate pairs of the batch relink: two-key blocks, tiny one-key blocks, per-record cap."""

from __future__ import annotations

import numpy as np

from linkage.blocking import pairs_sharing_most_keys, shared_keys


def matrix(rows: list[tuple[int, int, int]], n: int) -> np.ndarray:
    """Key kinds x records matrix from (record position, kind, key hash) rows."""
    arr = np.array(rows, dtype=np.int64)
    keys = np.zeros((int(arr[:, 1].max()) + 1, n), dtype=np.int64)
    keys[arr[:, 1], arr[:, 0]] = arr[:, 2]
    return keys


def pairs(keys: np.ndarray, **options: object) -> set[tuple[int, int]]:
    a, b = pairs_sharing_most_keys(keys, **options)  # type: ignore[arg-type]
    return set(zip(a.tolist(), b.tolist(), strict=True))


def test_one_shared_key_pairs_only_in_a_tiny_block() -> None:
    # Records 0-2 share key 7 of kind 0 (a block of 3); records 3-12 share key 9 (10).
    rows = [(i, 0, 7) for i in range(3)] + [(i, 0, 9) for i in range(3, 13)]
    keys = matrix(rows, 13)
    assert pairs(keys, single_block=5) == {(0, 1), (0, 2), (1, 2)}
    assert len(pairs(keys, single_block=10)) == 3 + 45


def test_two_shared_keys_pair_even_inside_a_huge_block() -> None:
    """Skew: 15 % of the registry on one default birth date; a family key refines it."""
    n = 2000
    default_date = [(i, 1, 19000101) for i in range(300)]  # 15 %: no one-key block
    family = [(i, 0, 100 + i // 2) for i in range(300)]  # pairs (0,1), (2,3), ...
    keys = matrix(default_date + family + [(i, 1, 5000 + i) for i in range(300, n)], n)
    found = pairs(keys, pair_block=20, single_block=1)
    assert found == {(i, i + 1) for i in range(0, 300, 2)}


def test_two_key_blocks_above_the_limit_are_not_paired() -> None:
    # 30 namesakes share two keys (name+year and family+year): a two-key block of 30.
    rows = [(i, 0, 1) for i in range(30)] + [(i, 1, 2) for i in range(30)]
    keys = matrix(rows, 30)
    assert pairs(keys, pair_block=20, single_block=1) == set()
    assert len(pairs(keys, pair_block=30, single_block=1, per_record=100)) == 30 * 29 // 2


def test_each_record_keeps_its_pairs_sharing_most_keys() -> None:
    # Record 0 shares two keys with 1..6 and a third key with 6 only; per_record=1.
    rows = [(0, 0, 1), (0, 1, 2), (0, 2, 3)]
    rows += [(i, 0, 1) for i in range(1, 7)] + [(i, 1, 2) for i in range(1, 7)] + [(6, 2, 3)]
    keys = matrix(rows, 7)
    found = pairs(keys, per_record=1, pair_block=20, single_block=1)
    # 0 and 6 keep each other (three keys); 1..5 tie on two keys and keep the highest, 6.
    assert found == {(i, 6) for i in range(6)}
    everything = pairs(keys, per_record=100, pair_block=20, single_block=1)
    assert found < everything and len(everything) == 21


def test_two_anchored_records_are_never_paired() -> None:
    rows = [(i, k, 10 + k) for i in range(3) for k in range(3)]
    keys = matrix(rows, 3)
    anchored = np.array([True, True, False])
    assert pairs(keys, anchored=anchored) == {(0, 2), (1, 2)}


def test_shared_keys_counts_equal_present_keys() -> None:
    keys = matrix([(0, 0, 1), (0, 1, 2), (1, 0, 1), (1, 1, 3), (2, 0, 5)], 3)
    a, b = np.array([0, 0, 1]), np.array([1, 2, 2])
    assert shared_keys(keys, a, b).tolist() == [1, 0, 0]
