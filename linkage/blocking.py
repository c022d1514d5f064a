"""Blocking: several short keys per record (one bad field does not hide a match), and pairs.

`candidate_pairs` pairs records of (key, id) frames sharing any key (blocks capped);
`pairs_sharing_most_keys` pairs a whole registry's coded keys through two-key blocks,
bounded per record (linkage.internals.pairing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from linkage.internals.normalise import date_parts, normalise_place, phonetic, phonetic_tokens
from linkage.internals.pairing import (
    PAIR_BLOCK,
    SINGLE_BLOCK,
    distinct,
    pairs_sharing_most_keys,
    shared_keys,
)

__all__ = [
    "KEY_KINDS",
    "PAIR_BLOCK",
    "SINGLE_BLOCK",
    "blocking_keys",
    "candidate_pairs",
    "distinct",
    "keys_frame",
    "keys_to_skip",
    "pairs_sharing_most_keys",
    "shared_keys",
]

# Key kinds (the prefix of every key) and what they survive.
KEY_KINDS: dict[str, str] = {
    "fb": "phonetic family name + birth year (given-name typo, day/month swap)",
    "gd": "given-name initial + birth date (family-name change or typo)",
    "dr": "birth date + region (both names mistyped)",
    "mb": "phonetic mother's name + birth year (own names changed)",
    "nk": "sorted phonetic given/family + birth year (swapped names)",
    "nd": "sorted phonetic given/family + day and month unordered (year typo, swap)",
    "nm": "sorted phonetic given/family + municipality (birth date missing or wrong)",
    "ad": "phonetic address + municipality (optional field 'address': names and date wrong)",
    "id": "secondary identifier (optional field 'identifier', e.g. a programme's own id)",
}


def blocking_keys(record: Mapping[str, Any]) -> list[str]:
    """Blocking keys of one record, e.g. ['fb:SRN:1940', 'gd:S:1940-03-04', ...]."""
    given = phonetic_tokens(record.get("given_name"))
    family = phonetic(record.get("family_name"))
    parts = date_parts(record.get("birth_date"))
    region = normalise_place(record.get("region"))
    municipality = normalise_place(record.get("municipality"))
    mother = phonetic_tokens(record.get("mother_name"))
    first = given[0] if given else ""

    keys: list[str] = []
    if parts is not None:
        y, m, d = parts
        year = str(y)
        iso = f"{y:04d}-{m:02d}-{d:02d}"
        if family:
            keys.append(f"fb:{family}:{year}")
        if first:
            keys.append(f"gd:{first[0]}:{iso}")
        if region:
            keys.append(f"dr:{iso}:{region}")
        if mother:
            keys.append(f"mb:{'.'.join(sorted(mother))}:{year}")
    if first and family:
        names = ".".join(sorted((first, family)))
        if parts is not None:
            keys.append(f"nk:{names}:{parts[0]}")
            lo, hi = sorted((parts[1], parts[2]))
            keys.append(f"nd:{names}:{lo:02d}{hi:02d}")
        if municipality:
            keys.append(f"nm:{names}:{municipality}")
    address = record.get("address")
    if address and municipality:
        street = phonetic(address)
        if street:
            keys.append(f"ad:{street}:{municipality}")
    identifier = record.get("identifier")
    if identifier and isinstance(identifier, str):
        keys.append(f"id:{identifier.strip()}")
    return keys


def keys_frame(records: Iterable[Mapping[str, Any]], ids: Iterable[Any]) -> pd.DataFrame:
    """(key, id) rows for many records, as stored in the blocking_key table."""
    out_keys: list[str] = []
    out_ids: list[Any] = []
    for rid, rec in zip(ids, records, strict=True):
        ks = blocking_keys(rec)
        out_keys.extend(ks)
        out_ids.extend([rid] * len(ks))
    return pd.DataFrame({"key": out_keys, "id": out_ids}).drop_duplicates(ignore_index=True)


def keys_to_skip(
    frequencies: Mapping[str, int],
    total: int,
    max_block: int = 1000,
    max_share: float = 0.01,
    min_block: int = 50,
) -> set[str]:
    """Keys to skip: blocks above max_block, or above max_share of records (never < min_block)."""
    cap = min(max_block, max(min_block, int(max_share * total)))
    return {key for key, n in frequencies.items() if n > cap}


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame | None = None,
    max_block: int = 1000,
    max_share: float = 0.01,
    min_block: int = 50,
) -> pd.MultiIndex:
    """Distinct (left id, right id) pairs sharing a key; right=None dedupes left (id_l < id_r)."""
    dedupe = right is None
    other = left if right is None else right
    total = max(left["id"].nunique(), other["id"].nunique())
    freq = pd.concat([left["key"], other["key"]]).value_counts()
    if dedupe:
        freq = freq // 2
    skip = keys_to_skip(freq.to_dict(), total, max_block, max_share, min_block)
    lk = left[~left["key"].isin(skip)] if skip else left
    rk = other[~other["key"].isin(skip)] if skip else other
    merged = lk.merge(rk, on="key", suffixes=("_l", "_r"))
    pairs = merged[["id_l", "id_r"]]
    if dedupe:
        a, b = pairs["id_l"].to_numpy(), pairs["id_r"].to_numpy()
        pairs = pairs[np.asarray(a < b)]
    pairs = pairs.drop_duplicates()
    return pd.MultiIndex.from_arrays(
        [pairs["id_l"].to_numpy(), pairs["id_r"].to_numpy()], names=["id_l", "id_r"]
    )
