"""The shipped CSV lists as the registry's default code lists (version 1 of each).

L402 replaced L401 in 2018 (Danmarks Statistik cleaned the list then), so its codes are valid
from 2018-01-01; DST's regions and municipalities from the 2007 reform. The migration that
creates the code-list tables loads them; a database emptied by hand (or by the test harness)
loads them again with `seed_defaults`, which adds only the lists that are missing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, text

_DIR = Path(__file__).resolve().parent

L402_FROM = date(2018, 1, 1)
DST_FROM = date(2007, 1, 1)
#: Who loaded a default list, as its version row says.
SHIPPED = "registry"


@dataclass(frozen=True)
class DefaultEntry:
    """One row of a shipped list, as it is loaded."""

    code: str
    description: str
    attributes: tuple[tuple[str, str], ...]
    valid_from: date


@dataclass(frozen=True)
class DefaultList:
    """A shipped list: its name, kind, file and entries."""

    name: str
    kind: str
    file: str
    entries: tuple[DefaultEntry, ...]


#: name, kind, file, the column holding the description, the dates it is valid from.
_SHIPPED = (
    ("l402_benefits", "benefit", "l402_benefits.csv", "description_da", L402_FROM),
    ("l402_target_groups", "target_group", "l402_target_groups.csv", "description_da", L402_FROM),
    ("dst_regions", "region", "dst_regions.csv", "name_da", DST_FROM),
    ("dst_municipalities", "municipality", "dst_municipalities.csv", "name", DST_FROM),
)


def _entries(file: str, description: str, valid_from: date) -> tuple[DefaultEntry, ...]:
    with (_DIR / file).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        DefaultEntry(
            code=row["code"],
            description=row[description],
            attributes=tuple(
                (k, v) for k, v in row.items() if k not in ("code", description) and v
            ),
            valid_from=valid_from,
        )
        for row in rows
    )


@lru_cache(maxsize=1)
def default_lists() -> tuple[DefaultList, ...]:
    """The lists shipped with the registry, read from the CSV files beside this module."""
    return tuple(
        DefaultList(name, kind, file, _entries(file, description, valid_from))
        for name, kind, file, description, valid_from in _SHIPPED
    )


def seed_defaults(connection: Connection) -> int:
    """Load every shipped list that the database does not hold yet; how many were loaded."""
    loaded = 0
    for shipped in default_lists():
        list_id = connection.execute(
            text(
                "INSERT INTO code_list (name, kind, owner) VALUES (:n, :k, NULL) "
                "ON CONFLICT (name) DO NOTHING RETURNING id"
            ),
            {"n": shipped.name, "k": shipped.kind},
        ).scalar()
        if list_id is None:
            continue
        version_id = connection.execute(
            text(
                "INSERT INTO code_list_version (code_list_id, version, source, loaded_by, "
                "entry_count) VALUES (:l, 1, :s, :by, :c) RETURNING id"
            ),
            {"l": list_id, "s": shipped.file, "by": SHIPPED, "c": len(shipped.entries)},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO code_list_entry (version_id, code, description, attributes, "
                "valid_from) VALUES (:v, :code, :d, CAST(:a AS jsonb), :f)"
            ),
            [
                {
                    "v": version_id,
                    "code": e.code,
                    "d": e.description,
                    "a": json.dumps(dict(e.attributes), ensure_ascii=False),
                    "f": e.valid_from,
                }
                for e in shipped.entries
            ],
        )
        loaded += 1
    return loaded
