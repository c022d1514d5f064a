"""System switches: a programme moving to a new MIS re-keys its records (old id → new id).

The map is checked whole before anything changes (all-or-nothing, every problem named by row
and rule), then one set-based statement re-keys `source_record.source_id` under the
programme's ingest lock: a record keeps its id, versions, episodes and link, only its source
id changes, so the new MIS's records re-sent under the new ids update it instead of creating
a second enrolment. The switch and its map are stored (append-only) and audited; the quality
report shows it as a declared break.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.audit.service import AuditContext, record_event
from registry.core.db import execute_script
from registry.core.errors import InvalidInput, PayloadTooLarge
from registry.core.locks import LockSpace, lock_sql
from registry.programmes.models import Programme

#: The most rows one map may hold, and the most bytes a map file may have.
MAX_ROWS = 200_000
MAX_FILE_BYTES = 32 * 1024 * 1024
#: A source id's most characters (records.fields.MAX_SOURCE_ID; programmes sits below records).
MAX_SOURCE_ID = 200
#: The most problems named in a refusal (the rest are counted).
MAX_PROBLEMS = 1_000
#: How far ahead a switch may be declared.
MAX_DAYS_AHEAD = 366
#: The audit action of a declared switch.
SWITCH_ACTION = "programme.switch"
#: A map file's two columns, in its header.
COLUMNS = ("old_source_id", "new_source_id")


@dataclass(frozen=True)
class KeyPair:
    """One row of a re-keying map: its row number (a file's header is row 1), old and new id."""

    row: int
    old_source_id: str
    new_source_id: str


@dataclass(frozen=True)
class SwitchAnswer:
    """A declared switch: the programme, its date, who declared it, what it re-keyed."""

    id: int
    programme: str
    switch_date: str
    declared_by: str
    declared_at: str
    channel: str
    file_sha256: str | None
    rows: int
    rekeyed: int


def _problem(row: int, field: str, code: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "code": code, "message": message}


def _refuse(problems: list[dict[str, Any]]) -> InvalidInput:
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    suffix = f" ({more} more not shown)" if more else ""
    first = shown[0]
    return InvalidInput(
        f"the re-keying map was refused, nothing changed: row {first['row']}: "
        f"{first['message']}{suffix}",
        errors=shown,
    )


def pairs_from_json(items: list[tuple[str, str]]) -> list[KeyPair]:
    """A JSON map's (old, new) items as numbered pairs (row = position, from 1)."""
    if len(items) > MAX_ROWS:
        raise PayloadTooLarge(f"a re-keying map holds at most {MAX_ROWS} rows; got {len(items)}")
    return [KeyPair(n, old, new) for n, (old, new) in enumerate(items, start=1)]


def pairs_from_csv(data: bytes) -> list[KeyPair]:
    """A CSV map (header old_source_id,new_source_id; comma, semicolon or tab) as pairs."""
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"a re-keying file has at most {MAX_FILE_BYTES} bytes")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the re-keying file must be UTF-8 text") from exc
    first = content.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = [c.strip().lower() for c in next(reader, [])]
    if header[:2] != list(COLUMNS):
        raise InvalidInput(
            "the re-keying file's header must be old_source_id,new_source_id",
            errors=[
                _problem(1, "header", "invalid_header", "expected old_source_id,new_source_id")
            ],
        )
    pairs: list[KeyPair] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(pairs) >= MAX_ROWS:
            raise PayloadTooLarge(f"a re-keying map holds at most {MAX_ROWS} rows")
        padded = [*cells, "", ""]
        pairs.append(KeyPair(number, padded[0], padded[1]))
    return pairs


def check_shape(pairs: list[KeyPair], switch_date: date, today: date) -> list[dict[str, Any]]:
    """The map's own problems: empty or long ids, an id mapped to itself, duplicates."""
    problems: list[dict[str, Any]] = []
    if switch_date > today + timedelta(days=MAX_DAYS_AHEAD):
        problems.append(
            _problem(0, "switch_date", "too_far_ahead", "switch_date is more than a year ahead")
        )
    if not pairs:
        problems.append(_problem(0, "map", "required", "the re-keying map has no rows"))
    olds = Counter(p.old_source_id.strip() for p in pairs)
    news = Counter(p.new_source_id.strip() for p in pairs)
    for pair in pairs:
        for field, value in (
            ("old_source_id", pair.old_source_id),
            ("new_source_id", pair.new_source_id),
        ):
            value = value.strip()
            if not value:
                problems.append(_problem(pair.row, field, "required", f"{field} is required"))
            elif len(value) > MAX_SOURCE_ID:
                problems.append(
                    _problem(
                        pair.row,
                        field,
                        "too_long",
                        f"{field} has more than {MAX_SOURCE_ID} characters",
                    )
                )
        old, new = pair.old_source_id.strip(), pair.new_source_id.strip()
        if old and old == new:
            problems.append(
                _problem(pair.row, "new_source_id", "same_id", f"{old!r} is mapped to itself")
            )
        if old and olds[old] > 1:
            problems.append(
                _problem(
                    pair.row,
                    "old_source_id",
                    "duplicate_old_id",
                    f"old_source_id {old!r} appears {olds[old]} times in the map",
                )
            )
        if new and news[new] > 1:
            problems.append(
                _problem(
                    pair.row,
                    "new_source_id",
                    "duplicate_new_id",
                    f"new_source_id {new!r} appears {news[new]} times in the map",
                )
            )
    return problems


#: Per map row: the record its old id names (NULL: unknown) and whether its new id is taken.
_LOOKUP = """
SELECT m.row, r.id AS record_id,
       EXISTS (SELECT 1 FROM source_record u
               WHERE u.programme_id = :programme_id AND u.source_id = m.new) AS new_taken
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS m(row integer, old text, new text)
LEFT JOIN source_record r ON r.programme_id = :programme_id AND r.source_id = m.old
ORDER BY m.row
"""

#: Re-key every record of the map at once, and keep the map as applied.
_APPLY = """
WITH m AS (SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(row integer, old text,
                                                                      new text)),
rekeyed AS (
    UPDATE source_record r SET source_id = m.new, updated_at = now()
    FROM m WHERE r.programme_id = :programme_id AND r.source_id = m.old
    RETURNING r.id, m.old, m.new
)
INSERT INTO system_switch_key (switch_id, old_source_id, new_source_id, source_record_id)
SELECT :switch_id, old, new, id FROM rekeyed
"""

_INSERT_SWITCH = """
INSERT INTO system_switch (programme_id, switch_date, declared_by, channel, file_sha256, rows,
                           rekeyed)
VALUES (:programme_id, :switch_date, :declared_by, :channel, :file_sha256, :n, :n)
RETURNING id
"""


def declare_switch(
    session: Session,
    programme: Programme,
    *,
    switch_date: date,
    pairs: list[KeyPair],
    declared_by: str,
    audit: AuditContext,
    channel: str = "json",
    file_bytes: bytes | None = None,
    today: date | None = None,
) -> SwitchAnswer:
    """Check the whole map, re-key the programme's records, store and audit the switch.

    In the caller's transaction (the caller commits); any problem refuses the whole map.
    """
    problems = check_shape(pairs, switch_date, today or date.today())
    rows = json.dumps(
        [
            {"row": p.row, "old": p.old_source_id.strip(), "new": p.new_source_id.strip()}
            for p in pairs
        ],
        ensure_ascii=False,
    )
    params: dict[str, Any] = {"programme_id": programme.id, "rows": rows}
    # no batch of this programme runs while its ids move (the ingest lock, per programme)
    found = execute_script(session, [lock_sql(LockSpace.INGEST, ":programme_id"), _LOOKUP], params)
    by_row = {p.row: p for p in pairs}
    for r in found:
        pair = by_row[int(r.row)]
        if r.record_id is None and pair.old_source_id.strip():
            problems.append(
                _problem(
                    pair.row,
                    "old_source_id",
                    "unknown_old_id",
                    f"old_source_id {pair.old_source_id.strip()!r} is no record of "
                    f"{programme.code}",
                )
            )
        same = pair.new_source_id.strip() == pair.old_source_id.strip()
        if r.new_taken and pair.new_source_id.strip() and not same:
            problems.append(
                _problem(
                    pair.row,
                    "new_source_id",
                    "new_id_in_use",
                    f"new_source_id {pair.new_source_id.strip()!r} is already a record of "
                    f"{programme.code}",
                )
            )
    if problems:
        raise _refuse(sorted(problems, key=lambda p: (p["row"], p["field"], p["code"])))
    digest = hashlib.sha256(file_bytes).hexdigest() if file_bytes is not None else None
    switch_id = session.execute(
        text(_INSERT_SWITCH),
        {
            "programme_id": programme.id,
            "switch_date": switch_date,
            "declared_by": declared_by,
            "channel": channel,
            "file_sha256": digest,
            "n": len(pairs),
        },
    ).scalar_one()
    session.execute(text(_APPLY), {**params, "switch_id": switch_id})
    record_event(
        session,
        audit,
        SWITCH_ACTION,
        detail={
            "programme": programme.code,
            "switch_id": int(switch_id),
            "switch_date": switch_date.isoformat(),
            "channel": channel,
            "file_sha256": digest,
            "rekeyed": len(pairs),
        },
    )
    return _one(session, int(switch_id), programme)


_SWITCHES = """
SELECT s.id, s.switch_date, s.declared_by, s.declared_at, s.channel, s.file_sha256, s.rows,
       s.rekeyed
FROM system_switch s WHERE s.programme_id = :programme_id {where} ORDER BY s.id
"""


def _answer(r: Any, code: str) -> SwitchAnswer:
    return SwitchAnswer(
        id=int(r.id),
        programme=code,
        switch_date=r.switch_date.isoformat(),
        declared_by=r.declared_by,
        declared_at=r.declared_at.isoformat(),
        channel=r.channel,
        file_sha256=r.file_sha256,
        rows=int(r.rows),
        rekeyed=int(r.rekeyed),
    )


def _one(session: Session, switch_id: int, programme: Programme) -> SwitchAnswer:
    row = session.execute(
        text(_SWITCHES.format(where="AND s.id = :id")),
        {"programme_id": programme.id, "id": switch_id},
    ).one()
    return _answer(row, programme.code)


def list_switches(session: Session, programme: Programme) -> list[SwitchAnswer]:
    """The programme's declared switches, oldest first."""
    rows = session.execute(text(_SWITCHES.format(where="")), {"programme_id": programme.id})
    return [_answer(r, programme.code) for r in rows]
