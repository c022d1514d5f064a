"""The code lists' answers and inputs as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class EntryIn:
    """One code as loaded: checked by `registry.codelists.entries`."""

    code: str
    description: str
    attributes: dict[str, str]
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class CodeEntry:
    """One code of a list version, as served."""

    code: str
    description: str
    attributes: dict[str, str]
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class CodeListSummary:
    """A list and its current version: who loaded it, when, from what, how many codes."""

    name: str
    kind: str
    owner: str | None
    version: int
    entries: int
    source: str
    loaded_by: str
    loaded_at: datetime


@dataclass(frozen=True)
class CodeListView:
    """One version of a list with its entries (those valid on `as_of`, when given)."""

    name: str
    kind: str
    owner: str | None
    version: int
    latest_version: int
    source: str
    loaded_by: str
    loaded_at: datetime
    as_of: date | None
    entries: list[CodeEntry]
