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

from linkage.blocking import KEY_KINDS
from linkage.columnar import CodedRecords, code_records
from linkage.pairing import key_matrix
from registry.persons.golden import PERSON_FIELDS

_RECORDS = f"""
SELECT r.id, r.person_id,
       ('x' || left(encode(r.national_id_digest, 'hex'), 16))::bit(64)::int8 AS nid,
       r.link_method = 'manual'
       OR EXISTS (SELECT 1 FROM match_candidate m WHERE m.source_record_id = r.id
                  AND m.status = 'pending' AND m.candidate_person_id = r.person_id) AS held,
       {", ".join("r." + f for f in PERSON_FIELDS)}
FROM source_record r WHERE NOT r.retracted ORDER BY r.id
"""
_KIND_LIST = ", ".join(f"'{k}'" for k in KEY_KINDS)
#: Blocking keys of a range of records, packed 16 bytes a key: the record id, then the key
#: kind (its index in KEY_KINDS) in the top 4 bits over 60 bits of the key's hash.
_KEYS = f"""
SELECT string_agg(int8send(source_record_id) || int8send(
           (hashtextextended(key, 0) & {(1 << 60) - 1})
           | ((array_position(ARRAY[{_KIND_LIST}], left(key, 2)) - 1)::int8 << 60)), ''::bytea)
FROM blocking_key WHERE source_record_id >= :low AND source_record_id < :high
"""
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
    """Every live record as codes, and the records x key kinds matrix of its blocking keys.

    The keys are read on a second connection in the same snapshot (pg_export_snapshot)
    while this one reads the records: the database works on both at once.
    """
    exported = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    bind = session.get_bind()
    with ThreadPoolExecutor(1) as pool:
        keys = pool.submit(_read_keys_in_snapshot, bind, exported)
        snapshot = _read_records(session)
        return snapshot, _key_matrix(keys.result(), snapshot.records.ids)


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


def _read_keys_in_snapshot(bind: Engine | Connection, exported: str) -> np.ndarray:
    """Every blocking key as (record id, packed kind and hash) rows, in the exported snapshot."""
    if not _SNAPSHOT_ID.fullmatch(exported):
        raise ValueError(f"unexpected snapshot id {exported!r}")
    parts = []
    with bind.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(text(f"SET TRANSACTION SNAPSHOT '{exported}'"))
        low, high = conn.execute(text("SELECT min(id), max(id) FROM source_record")).one()
        for start in range(low or 0, (high or 0) + 1, KEY_CHUNK):
            packed = conn.execute(
                text(_KEYS), {"low": start, "high": start + KEY_CHUNK}
            ).scalar_one()
            if packed is not None:
                parts.append(np.frombuffer(packed, dtype=">i8").astype(np.int64).reshape(-1, 2))
        conn.rollback()
    return np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)


def _key_matrix(rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The key kinds x records hash matrix of the key rows of the given (ascending) ids."""
    record_ids = rows[:, 0]
    positions = np.searchsorted(ids, record_ids)
    positions[positions == len(ids)] = 0
    live = ids[positions] == record_ids  # keys of retracted records are left out
    packed = rows[live, 1]
    return key_matrix(
        packed >> np.int64(60), packed & np.int64((1 << 60) - 1), positions[live], len(ids)
    )


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
    return np.unique(positions[known].astype(np.int64) * len(snapshot.persons) + people[known])


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
