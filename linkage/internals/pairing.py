"""Candidate pairs for deduplicating a whole registry: two-key blocks, bounded per record.

A single blocking key grows with the population (a birth date and region holds ~20 records
at a million persons, a common name and birth year hundreds), so pairing every record with
every block-mate of every key explodes. True duplicates share most of their keys (six or
seven of seven, on the bench's population), so the relink pairs records that share **two**
keys, found through two-key blocks (one per pair of key kinds) of at most `pair_block`
records; a key no single block may use (a default birth date held by 15 % of the registry)
still refines another key here. Pairs sharing one key only are formed where that key's block
is tiny (`single_block`). Each record then keeps its `per_record` pairs sharing the most
keys (ties: the higher other position), as the ingest path ranks candidates.

Everything is numpy on integer codes: key hashes packed with record positions into one
sortable integer (a hash collision can only add a candidate pair, never hide one).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

#: Pair codes are a * n + b with a < b < n.
PairCodes = np.ndarray
#: Largest two-key block paired in full; larger ones (namesakes born the same year) are not.
PAIR_BLOCK = 20
#: Largest one-key block whose records are paired on that key alone.
SINGLE_BLOCK = 5


def pairs_sharing_most_keys(
    keys: np.ndarray,
    *,
    per_record: int = 20,
    pair_block: int = PAIR_BLOCK,
    single_block: int = SINGLE_BLOCK,
    anchored: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (positions a < b) to score when deduplicating records with these keys.

    `keys` is a key kinds x records matrix of 64-bit key hashes, 0 where a record has none.

    Pairs of two `anchored` records (both with a national ID, which decides) are left out.
    """
    width, n = keys.shape
    present = keys != 0

    def block_pairs(task: tuple[int, int]) -> PairCodes:
        i, j = task
        if j < 0:  # one-key blocks of kind i
            has = np.flatnonzero(present[i])
            codes = _block_pairs(_mix(keys[i, has], np.int64(0)), has, n, single_block)
        else:
            both = np.flatnonzero(present[i] & present[j])
            codes = _block_pairs(_mix(keys[i, both], keys[j, both]), both, n, pair_block)
        if anchored is not None:
            codes = codes[~(anchored[codes // n] & anchored[codes % n])]
        return distinct(codes)

    tasks = [(i, j) for i in range(width) for j in range(i + 1, width)]
    tasks += [(i, -1) for i in range(width)]
    found: list[PairCodes] = []
    with ThreadPoolExecutor(2) as pool:  # numpy sorts release the GIL: two cores at work
        for step, codes in enumerate(pool.map(block_pairs, tasks), 1):
            found.append(codes)
            _report(progress, step, len(tasks) + 1)
    codes = distinct(np.concatenate(found))
    del found
    a, b = _top_per_record(codes, keys, n, per_record)
    _report(progress, len(tasks) + 1, len(tasks) + 1)
    return a, b


def shared_keys(
    keys: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 2_000_000
) -> np.ndarray:
    """Number of keys each pair shares (int8)."""
    out = np.zeros(len(a), dtype=np.int8)
    for start in range(0, len(a), chunk):
        left, right = a[start : start + chunk], b[start : start + chunk]
        part = out[start : start + chunk]
        for kind in keys:
            mine = kind[left]
            part += (mine == kind[right]) & (mine != 0)
    return out


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _mix(x: np.ndarray, y: np.ndarray | np.int64) -> np.ndarray:
    """A 64-bit hash of two 64-bit values, all bits mixed into the high ones (wraps around)."""
    with np.errstate(over="ignore"):
        z = x * np.int64(-7046029254386353131) + (y ^ (y >> np.int64(29)))
        return z ^ (z >> np.int64(32))


def _block_pairs(hashes: np.ndarray, positions: np.ndarray, n: int, max_block: int) -> PairCodes:
    """Pair codes of records sharing a hash, in blocks of 2..max_block records."""
    if len(hashes) < 2:
        return np.zeros(0, dtype=np.int64)
    bits = max(int(n - 1).bit_length(), 1)
    packed = np.sort((hashes >> np.int64(bits)) << np.int64(bits) | positions.astype(np.int64))
    block = packed >> np.int64(bits)
    member = packed & np.int64((1 << bits) - 1)
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    sizes = np.diff(np.r_[starts, len(block)])
    keep = (sizes >= 2) & (sizes <= max_block)
    starts, sizes = starts[keep], sizes[keep]
    # Each member pairs with the members after it (sorted by position, so a < b).
    rows = _block_rows(starts, sizes)
    block_end = np.repeat(starts + sizes, sizes)
    after = block_end - 1 - rows
    first = np.repeat(rows, after)
    offset = np.arange(int(after.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(after) - after, after
    )
    second = first + 1 + offset
    return member[first] * np.int64(n) + member[second]


def _block_rows(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The row index of every member of the given blocks (blocks in order)."""
    base = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
    return base + np.arange(int(sizes.sum()), dtype=np.int64)


def distinct(codes: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.sort based: numpy's unique is slow on large int64 arrays)."""
    if not len(codes):
        return codes
    ordered = np.sort(codes)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _top_per_record(
    codes: PairCodes, keys: np.ndarray, n: int, per_record: int, chunk: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs among the per_record sharing the most keys of either record (ties: higher other).

    Each pair is ranked for both its records; records are taken a range at a time so that
    the sorted (record, rank) codes stay a few million long.
    """
    size = np.int64(n)
    a, b = np.divmod(codes, size)
    shared = shared_keys(keys, a, b)
    entries = np.cumsum(np.bincount(a, minlength=n) + np.bincount(b, minlength=n))
    cuts = np.searchsorted(entries, np.arange(chunk, int(entries[-1]) if n else 0, chunk)) + 1
    edges = np.unique(np.r_[0, cuts, n]).tolist()
    kept = [
        _top_in_range(a, b, shared, low, high, size, per_record) for low, high in pairwise(edges)
    ]
    chosen = distinct(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)
    return np.divmod(chosen, size)


def _top_in_range(
    a: np.ndarray,
    b: np.ndarray,
    shared: np.ndarray,
    low: int,
    high: int,
    size: np.int64,
    per_record: int,
) -> PairCodes:
    """Pair codes chosen by the records low..high-1 (as owners of either side of a pair)."""
    span = np.int64(16) * size  # owner * span + (15 - shared) * size + (size - 1 - other)
    parts = []
    for owner, other in ((a, b), (b, a)):
        mine = np.flatnonzero((owner >= low) & (owner < high))
        order_within = (np.int64(15) - shared[mine]) * size + (size - 1 - other[mine])
        parts.append(owner[mine] * span + order_within)
    order = np.sort(np.concatenate(parts))
    owners = order // span
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen = order[rank < per_record]
    first = chosen // span
    second = size - 1 - chosen % size
    return np.minimum(first, second) * size + np.maximum(first, second)
