"""The code lists shipped with the registry: L402 (benefits, target groups), DST's geography.

The regions (1081-1085) and the 98 municipalities (three-digit codes) are Danmarks Statistik's
classification "Kommuner og regioner" (the codes CPR and the municipalities' systems use);
see README.md beside this file. They are defaults: a deployment replaces the CSV files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Region:
    """A DST region: its code, Danish and English names."""

    code: str
    name_da: str
    name_en: str


@dataclass(frozen=True)
class Municipality:
    """A DST municipality: its three-digit code, its name, and its region's code."""

    code: str
    name: str
    region: str


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    """DST's five regions by code (1081-1085)."""
    with (_DIR / "dst_regions.csv").open(encoding="utf-8", newline="") as handle:
        return {
            r["code"]: Region(r["code"], r["name_da"], r["name_en"]) for r in csv.DictReader(handle)
        }


@lru_cache(maxsize=1)
def municipalities() -> dict[str, Municipality]:
    """DST's 98 municipalities by their three-digit code."""
    with (_DIR / "dst_municipalities.csv").open(encoding="utf-8", newline="") as handle:
        return {
            r["code"]: Municipality(r["code"], r["name"], r["region"])
            for r in csv.DictReader(handle)
        }


def region_name(code: str | None, lang: str = "da") -> str | None:
    """A region's name in the language (Danish unless `en`); None for an unknown code."""
    found = regions().get(code or "")
    if found is None:
        return None
    return found.name_en if lang == "en" else found.name_da


def municipality_name(code: str | None) -> str | None:
    """A municipality's name; None for an unknown code (codes with leading zeros too)."""
    if not code:
        return None
    found = municipalities().get(code)
    if found is None and code.isdigit():
        found = municipalities().get(str(int(code)))
    return None if found is None else found.name
