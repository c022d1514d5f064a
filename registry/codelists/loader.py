"""The L402 code lists (benefits and target groups) shipped with the registry."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent

#: Target group code allowed only with benefits under §§ 82 a and 82 b.
UNSPECIFIED_TARGET_GROUP = "10"
UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX = "1.18."


def _read(name: str) -> dict[str, str]:
    with (_DIR / name).open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["description_da"] for row in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def benefit_codes() -> dict[str, str]:
    """L402 benefit (ydelse) codes and their Danish descriptions."""
    return _read("l402_benefits.csv")


@lru_cache(maxsize=1)
def target_groups() -> dict[str, str]:
    """L402 target-group (målgruppe) codes and their Danish descriptions."""
    return _read("l402_target_groups.csv")
