"""Bulk-load a generated population into a registry as if every record had been ingested.

The benches need registries of 10^4..10^6 persons; pushing millions of records through the
API would take hours, so the base population goes in with COPY. Each record is validated
and keyed by the same functions the ingest path uses (`validate_record`, `blocking_keys`),
and linked to its *true* person (what a perfect linker would do); persons, identifiers,
records, versions, episodes and blocking keys are written in one transaction, then the
overview summary is refreshed and the tables analysed. Streaming: records are turned into
COPY text a chunk at a time, so memory stays bounded by the chunk.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, text

from registry.core.db import transaction
from registry.identity.national_id import SCHEMES
from registry.ingest.service import record_keys
from registry.ingest.validation import RuleSet, ValidRecord, validate_record
from registry.overview.summary import refresh_summary
from registry.records.fields import GOLDEN_FIELDS

#: (table, columns) in COPY order.
TABLES: dict[str, tuple[str, ...]] = {
    "person": ("id", *GOLDEN_FIELDS),
    "person_identifier": ("scheme", "digest", "person_id"),
    "source_record": (
        "id",
        "programme_id",
        "source_id",
        "person_id",
        "link_method",
        "version",
        "payload_hash",
        "national_id_digest",
        "national_id_masked",
        *GOLDEN_FIELDS,
        "retracted",
    ),
    "source_record_version": (
        "source_record_id",
        "version",
        "feed_batch_id",
        "payload",
        "payload_hash",
        "retracted",
    ),
    "enrolment": (
        "source_record_id",
        "source_version",
        "programme_id",
        "person_id",
        "benefit_code",
        "target_group",
        "status",
        "start_date",
        "end_date",
        "amount",
        "region",
    ),
    "blocking_key": ("key", "source_record_id"),
}


@dataclass
class LoadTarget:
    """Where one programme's records go: its id, its bulk feed batch and its rules."""

    programme_id: int
    feed_batch_id: int
    rules: RuleSet


@dataclass
class _Buffers:
    """COPY text per table for the current chunk."""

    out: dict[str, io.StringIO] = field(default_factory=lambda: {t: io.StringIO() for t in TABLES})

    def add(self, table: str, *values: Any) -> None:
        self.out[table].write("\t".join(_copy_value(v) for v in values) + "\n")


def _copy_value(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    s = str(value)
    if any(c in s for c in "\\\t\n\r"):
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def programme_targets(
    engine: Engine, codes: Iterable[str], scheme: str, key: bytes
) -> dict[str, LoadTarget]:
    """One bulk feed batch per programme (so versions have a batch), with its rules."""
    targets: dict[str, LoadTarget] = {}
    with transaction(engine) as session:
        for code in codes:
            programme_id, benefit_codes = session.execute(
                text("SELECT id, benefit_codes FROM programme WHERE code = :c"), {"c": code}
            ).one()
            batch_id = session.execute(
                text(
                    "INSERT INTO feed_batch (programme_id, batch_id, content_hash, submitted_by) "
                    "VALUES (:p, 'bulk-load', '\\x00', 'bench') RETURNING id"
                ),
                {"p": programme_id},
            ).scalar_one()
            rules = RuleSet(
                programme_benefit_codes=frozenset(benefit_codes),
                check_national_id=SCHEMES[scheme],
                national_id_key=key,
                today=date.today(),
            )
            targets[code] = LoadTarget(int(programme_id), int(batch_id), rules)
    return targets


def bulk_load(
    engine: Engine,
    items: Iterable[tuple[str, dict[str, Any], int]],
    targets: dict[str, LoadTarget],
    *,
    scheme: str,
    chunk: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Load (programme code, feed record, true person index) items; row counts per table."""
    persons: dict[int, uuid.UUID] = {}
    claimed: set[bytes] = set()
    counts = dict.fromkeys(TABLES, 0)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")  # consistent by construction
        next_id = int(_scalar(cursor, "SELECT COALESCE(max(id), 0) FROM source_record")) + 1
        done = 0
        for part in _chunks(items, chunk):
            buffers = _Buffers()
            for code, raw_record, truth in part:
                target = targets[code]
                record, _, _ = validate_record(raw_record, target.rules)
                if record is None:
                    continue
                person_id = persons.get(truth)
                if person_id is None:
                    person_id = persons[truth] = uuid.uuid4()
                    _person_row(buffers, person_id, record)
                digest = record.national_id_digest
                if digest is not None and digest not in claimed:
                    claimed.add(digest)
                    buffers.add("person_identifier", scheme, digest, person_id)
                _record_rows(buffers, next_id, target, person_id, record)
                next_id += 1
            for table, columns in TABLES.items():
                payload = buffers.out[table]
                counts[table] += payload.getvalue().count("\n")
                payload.seek(0)
                cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", payload)
            done += len(part)
            if progress:
                progress(done)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('source_record', 'id'), %s)", (next_id,)
        )
        cursor.execute(
            "UPDATE feed_batch f SET received = c.n, accepted = c.n FROM (SELECT programme_id, "
            "count(*) AS n FROM source_record GROUP BY programme_id) c "
            "WHERE f.programme_id = c.programme_id AND f.batch_id = 'bulk-load'"
        )
        cursor.execute("INSERT INTO overview_dirty (person_id) SELECT id FROM person")
        raw.commit()
    finally:
        raw.close()
    counts["seconds_copy"] = int(time.perf_counter() - started)
    with transaction(engine) as session:
        session.execute(text("SET LOCAL statement_timeout = 0"))
        refresh_summary(session, chunk=None)
    _vacuum_analyze(engine)
    counts["seconds_total"] = int(time.perf_counter() - started)
    return counts


def _person_row(buffers: _Buffers, person_id: uuid.UUID, r: ValidRecord) -> None:
    buffers.add(
        "person",
        person_id,
        r.given_name,
        r.family_name,
        r.birth_date,
        r.sex,
        r.region,
        r.municipality,
        r.mother_name,
    )


def _record_rows(
    buffers: _Buffers, record_id: int, target: LoadTarget, person_id: uuid.UUID, r: ValidRecord
) -> None:
    """The record, its first version, its episode and its blocking keys."""
    method = "national_id" if r.national_id_digest else "probabilistic"
    buffers.add(
        "source_record",
        record_id,
        target.programme_id,
        r.source_id,
        person_id,
        method,
        1,
        r.payload_hash,
        r.national_id_digest,
        r.national_id_masked,
        r.given_name,
        r.family_name,
        r.birth_date,
        r.sex,
        r.region,
        r.municipality,
        r.mother_name,
        False,
    )
    buffers.add(
        "source_record_version",
        record_id,
        1,
        target.feed_batch_id,
        r.payload,
        r.payload_hash,
        False,
    )
    buffers.add(
        "enrolment",
        record_id,
        1,
        target.programme_id,
        person_id,
        r.benefit_code,
        r.target_group,
        r.status,
        r.start_date,
        r.end_date,
        r.amount,
        r.region,
    )
    for key in dict.fromkeys(record_keys(r)):
        buffers.add("blocking_key", key, record_id)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    part: list[Any] = []
    for item in items:
        part.append(item)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def _scalar(cursor: Any, sql: str) -> Any:
    cursor.execute(sql)
    return cursor.fetchone()[0]


def _vacuum_analyze(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        raw.set_isolation_level(0)  # VACUUM runs outside a transaction
        raw.cursor().execute("VACUUM ANALYZE")
    finally:
        raw.close()
