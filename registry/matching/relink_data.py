"""The whole registry read for a relink: records as codes, their persons, and blocking keys.

Everything is read with COPY: records as CSV into categorical columns (normalised once per
distinct value), keys as binary (record id, 64-bit hash of the key) straight into numpy, so
a million persons take seconds and a few hundred MiB, not a Python object per row.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from linkage import KEY_KINDS, CodedRecords, code_records, distinct
from registry.persons.golden import PERSON_FIELDS

_RECORDS = f"""
SELECT r.id, r.person_id,
       ('x' || left(encode(r.national_id_digest, 'hex'), 16))::bit(64)::int8 AS nid,
       r.link_method = 'manual' OR p.source_record_id IS NOT NULL AS held,
       {", ".join("r." + f for f in PERSON_FIELDS)}
FROM source_record r
LEFT JOIN (SELECT DISTINCT source_record_id, candidate_person_id FROM match_candidate
           WHERE status = 'pending') p
       ON p.source_record_id = r.id AND p.candidate_person_id = r.person_id
WHERE NOT r.retracted ORDER BY r.id
"""
#: Blocking keys of a range of records, packed 16 bytes a key: the record id, then the key
#: kind's two prefix letters in the top 16 bits over 48 bits of the key's hash.
_KEYS = f"""
SELECT string_agg(int8send(source_record_id) || int8send(
           (hashtextextended(key, 0) & {(1 << 48) - 1})
           | ((ascii(key) << 8 | ascii(substr(key, 2, 1)))::int8 << 48)), ''::bytea)
FROM blocking_key WHERE source_record_id >= :low AND source_record_id < :high
"""
#: Key kind index by its two prefix letters as packed above (unknown prefixes: -1).
_KIND_INDEX = np.full(1 << 16, -1, dtype=np.int64)
_KIND_INDEX[[ord(k[0]) << 8 | ord(k[1]) for k in KEY_KINDS]] = np.arange(len(KEY_KINDS))
#: Records per key query: a few MiB of packed keys each.
KEY_CHUNK = 250_000
_NON_MATCHES = """
SELECT source_record_id, candidate_person_id FROM match_candidate WHERE status = 'non_match'
"""
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
_CODED = ("person_id", "held", *PERSON_FIELDS)
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


@dataclass
class RegistrySnapshot:
    """Live records by position (ascending id), coded, with their persons and ID anchors."""

    records: CodedRecords
    person: np.ndarray  # int32 code per position into `persons`
    persons: np.ndarray  # person UUIDs (str)
    nid: np.ndarray  # int32 code of the national ID digest per position, -1 without one
    held: np.ndarray  # bool: a steward holds the record in its person

    def __len__(self) -> int:
        return len(self.records)


def read_snapshot(session: Session) -> tuple[RegistrySnapshot, np.ndarray]:
    """Every live record as codes, and the key kinds x records matrix of its blocking keys.

    The keys are read on a second connection in the same snapshot (pg_export_snapshot)
    while this one reads the records: the database works on both at once.
    """
    exported = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    bind = session.get_bind()
    with ThreadPoolExecutor(1) as pool:
        keys = pool.submit(_read_keys_in_snapshot, bind, exported)
        snapshot = _read_records(session)
        return snapshot, keys.result().for_records(snapshot.records.ids)


def _read_records(session: Session) -> RegistrySnapshot:
    """Every live record's fields, person, national ID and hold, as codes."""
    raw = _copy(
        session.connection().connection, f"COPY ({_RECORDS}) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    table = pacsv.read_csv(
        pa.BufferReader(raw.getbuffer()),
        convert_options=pacsv.ConvertOptions(
            column_types={"id": pa.int64(), "nid": pa.int64(), **{c: _DICTIONARY for c in _CODED}},
            strings_can_be_null=True,
        ),
    )
    del raw
    table = table.unify_dictionaries().combine_chunks()
    columns = {name: _categorical(table.column(name)) for name in _CODED}
    frame = pd.DataFrame(columns, index=pd.Index(table.column("id").to_numpy(), name="id"))
    person = frame["person_id"].cat
    held = frame["held"].cat
    return RegistrySnapshot(
        records=code_records(frame),
        person=person.codes.to_numpy(dtype=np.int32),
        persons=person.categories.to_numpy(dtype=object),
        nid=_nid_codes(table.column("nid")),
        held=np.asarray(held.categories == "t")[held.codes] & (held.codes >= 0),
    )


def _nid_codes(column: pa.ChunkedArray) -> np.ndarray:
    """A code per distinct national ID (its digest's first 64 bits), -1 without one."""
    present = column.is_valid().to_numpy(zero_copy_only=False)
    values = column.fill_null(0).to_numpy()
    codes = np.full(len(values), -1, dtype=np.int32)
    codes[present] = pd.factorize(values[present])[0]
    return codes


def _categorical(column: pa.ChunkedArray) -> pd.Categorical:
    """A dictionary-encoded arrow column as a pandas categorical (no per-row objects)."""
    array = column.chunk(0) if column.num_chunks else pa.array([], _DICTIONARY)
    codes = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    values = array.dictionary.to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


@dataclass
class _KeysById:
    """Key kinds x record ids (from `low`) hash matrix; ids come from a sequence, so dense."""

    low: int
    matrix: np.ndarray

    def for_records(self, ids: np.ndarray) -> np.ndarray:
        """The key kinds x positions matrix of the given records."""
        return np.ascontiguousarray(self.matrix[:, ids - self.low])


def _read_keys_in_snapshot(bind: Engine | Connection, exported: str) -> _KeysById:
    """Every blocking key's kind and hash by record id, read in the exported snapshot."""
    if not _SNAPSHOT_ID.fullmatch(exported):
        raise ValueError(f"unexpected snapshot id {exported!r}")
    with bind.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(text(f"SET TRANSACTION SNAPSHOT '{exported}'"))
        low, high = conn.execute(text("SELECT min(id), max(id) FROM source_record")).one()
        low, high = low or 0, high or -1
        keys = _KeysById(low, np.zeros((len(KEY_KINDS), high - low + 1), dtype=np.int64))
        for start in range(low, high + 1, KEY_CHUNK):
            packed = conn.execute(
                text(_KEYS), {"low": start, "high": start + KEY_CHUNK}
            ).scalar_one()
            if packed is not None:
                rows = np.frombuffer(packed, dtype=">i8").astype(np.int64).reshape(-1, 2)
                kinds = _KIND_INDEX[rows[:, 1] >> np.int64(48)]
                known = kinds >= 0
                hashes = rows[known, 1] & np.int64((1 << 48) - 1)
                keys.matrix[kinds[known], rows[known, 0] - low] = np.where(hashes == 0, 1, hashes)
        conn.rollback()
    return keys


def read_refusals(session: Session, snapshot: RegistrySnapshot) -> np.ndarray:
    """Steward non-match decisions as codes (record position * persons + person code)."""
    rows = session.execute(text(_NON_MATCHES)).all()
    if not rows:
        return np.zeros(0, dtype=np.int64)
    record_ids = np.array([r[0] for r in rows], dtype=np.int64)
    positions = np.searchsorted(snapshot.records.ids, record_ids)
    positions[positions == len(snapshot)] = 0
    people = pd.Index(snapshot.persons).get_indexer([str(r[1]) for r in rows])
    known = (snapshot.records.ids[positions] == record_ids) & (people >= 0)
    return distinct(positions[known].astype(np.int64) * len(snapshot.persons) + people[known])


def _copy(dbapi_connection: Any, statement: str) -> io.BytesIO:
    """The output of a COPY ... TO STDOUT statement, in memory."""
    buffer = io.BytesIO()
    cursor = dbapi_connection.cursor()
    try:
        cursor.copy_expert(statement, buffer)
    finally:
        cursor.close()
    buffer.seek(0)
    return buffer
