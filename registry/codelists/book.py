"""The code lists in force, in memory: what validation and programme checks look codes up in.

`code_book(session)` answers the current version of every list, read once and kept in the
process; each call costs one cheap statement (the versions' count, highest id and latest load
time), and the lists are read again only when that stamp moves. A batch asks once, so ingest
adds no statement per record.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.codelists.defaults import default_lists, seed_defaults


@dataclass(frozen=True)
class Entry:
    """One code of a list: its description, attributes and the dates it is valid (inclusive)."""

    code: str
    description: str
    attributes: Mapping[str, str]
    valid_from: date | None
    valid_to: date | None
    list_name: str

    def covers(self, start: date | None, end: date | None) -> bool:
        """Whether the code is valid on some day of the period start-end (open end: ongoing)."""
        if start is None:
            return True
        last = end or date.max
        after_start = self.valid_to is None or self.valid_to >= start
        before_end = self.valid_from is None or self.valid_from <= last
        return after_start and before_end

    def period(self) -> str:
        """The dates the code is valid, as text."""
        return f"{self.valid_from or '…'} to {self.valid_to or '…'}"


_Codes = Mapping[str, tuple[Entry, ...]]


@dataclass(frozen=True)
class KindCodes:
    """The codes of one kind a programme may use (the registry's lists and its own)."""

    entries: _Codes = field(default_factory=lambda: MappingProxyType({}))

    def known(self, code: str) -> bool:
        """Whether the code is in a list at all, whatever its dates."""
        return code in self.entries

    def valid(self, code: str, start: date | None, end: date | None) -> Entry | None:
        """The code's entry valid during the period, or None."""
        for entry in self.entries.get(code, ()):
            if entry.covers(start, end):
                return entry
        return None

    def recoded(self, code: str, start: date | None, end: date | None) -> Entry | None:
        """The code's entry that came into force after the period ended and is still in force
        (history recoded into a newer list), or None."""
        if end is None:
            return None
        for entry in self.entries.get(code, ()):
            began_later = entry.valid_from is not None and entry.valid_from > end
            if began_later and entry.valid_to is None:
                return entry
        return None

    def periods(self, code: str) -> str:
        """Every period the code is valid, as text."""
        return "; ".join(e.period() for e in self.entries.get(code, ()))


@dataclass(frozen=True)
class ProgrammeCodes:
    """What one programme's records are checked against: benefits, target groups, statuses."""

    benefits: KindCodes
    target_groups: KindCodes
    statuses: KindCodes


_Rows = dict[tuple[str | None, str], dict[str, list[Entry]]]


@dataclass(frozen=True)
class CodeBook:
    """The current version of every list, by (owner, kind): owner None is the registry."""

    by_owner_kind: Mapping[tuple[str | None, str], _Codes]

    def for_programme(self, programme: str) -> ProgrammeCodes:
        """The registry's codes and the programme's own, of each kind validation uses."""
        return ProgrammeCodes(
            self._merged(programme, "benefit"),
            self._merged(programme, "target_group"),
            self._merged(programme, "status_map"),
        )

    def _merged(self, programme: str, kind: str) -> KindCodes:
        shared = self.by_owner_kind.get((None, kind), {})
        own = self.by_owner_kind.get((programme, kind), {})
        merged = {code: shared.get(code, ()) + own.get(code, ()) for code in {*shared, *own}}
        return KindCodes(MappingProxyType(merged))


def _book(rows: _Rows) -> CodeBook:
    return CodeBook(
        MappingProxyType(
            {
                key: MappingProxyType({c: tuple(es) for c, es in codes.items()})
                for key, codes in rows.items()
            }
        )
    )


@lru_cache(maxsize=1)
def default_book() -> CodeBook:
    """The shipped lists alone (for rules built without a database, e.g. a benchmark)."""
    rows: _Rows = {}
    for shipped in default_lists():
        codes = rows.setdefault((None, shipped.kind), {})
        for e in shipped.entries:
            codes.setdefault(e.code, []).append(
                Entry(e.code, e.description, dict(e.attributes), e.valid_from, None, shipped.name)
            )
    return _book(rows)


_STAMP = text(
    "SELECT count(*), coalesce(max(id), 0), coalesce(max(loaded_at)::text, '') "
    "FROM code_list_version"
)

_CURRENT = text(
    """
    SELECT l.name, l.kind, l.owner, e.code, e.description, e.attributes, e.valid_from, e.valid_to
    FROM code_list l
    JOIN LATERAL (
        SELECT v.id FROM code_list_version v WHERE v.code_list_id = l.id
        ORDER BY v.version DESC LIMIT 1
    ) cur ON true
    JOIN code_list_entry e ON e.version_id = cur.id
    ORDER BY l.name, e.code, e.valid_from NULLS FIRST
    """
)

_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], CodeBook] | None = None


def code_book(session: Session) -> CodeBook:
    """The lists in force as the session sees them: cached, re-read when a list is loaded."""
    global _cached
    stamp = tuple(session.execute(_STAMP).one())
    if stamp[0] == 0:
        # a database emptied since its migration: the shipped lists again, as it had them
        seed_defaults(session.connection())
        stamp = tuple(session.execute(_STAMP).one())
    with _lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
    rows: _Rows = {}
    for name, kind, owner, code, description, attributes, valid_from, valid_to in session.execute(
        _CURRENT
    ):
        entry = Entry(code, description, dict(attributes or {}), valid_from, valid_to, name)
        rows.setdefault((owner, kind), {}).setdefault(code, []).append(entry)
    book = _book(rows)
    with _lock:
        _cached = (stamp, book)
    return book
