"""The import service: CSV and XLSX through the mapping into the one ingest path."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from registry.audit.service import AuditContext
from registry.core.db import session_factory
from registry.core.errors import InvalidInput
from registry.core.settings import Settings
from registry.imports import service
from registry.imports.mapping import load_mapping, parse_mapping
from registry.imports.service import ImportResult, import_file
from tests.imports.conftest import (
    BAD_ROWS,
    GOOD_ROWS,
    MAPPING,
    Export,
    csv_bytes,
    mapping_json,
    table_counts,
    xlsx_bytes,
)

AUDIT = AuditContext(actor="test:import", roles=("feed",))


def run(
    engine: Engine,
    settings: Settings,
    data: bytes,
    mapping: str | None = None,
    batch_size: int = 3,
    workers: int = 2,
    database_url: str | None = None,
) -> ImportResult:
    return import_file(
        session_factory(engine),
        programme_code="SEL85",
        stream=io.BytesIO(data),
        mapping=load_mapping(mapping or mapping_json()),
        settings=settings,
        submitted_by="test:import",
        audit=AUDIT,
        batch_size=batch_size,
        workers=workers,
        file_name="udtraek.csv",
        database_url=database_url,
    )


def rejects_by_row(result: ImportResult) -> dict[int, tuple[str, str, str | None]]:
    return {r.row: (r.field, r.code, r.column) for r in result.rejected_rows}


def test_csv_is_mapped_translated_and_ingested_with_bad_rows_named(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    result = run(engine, settings, csv_bytes(export))
    s = result.summary
    assert (s.rows_read, s.accepted, s.rejected, s.unchanged) == (7, 4, 3, 0)
    assert s.created + s.linked + s.review == 4
    assert s.format == "csv" and s.batches == 3 and s.replayed_batches == 0
    assert rejects_by_row(result) == {row: reason for row, reason in BAD_ROWS.items()}
    assert result.ignored_columns == ["Bemærkning"]
    date_reject = next(r for r in result.rejected_rows if r.row == 4)
    assert "31-02-1980" in date_reject.message and date_reject.source_id == "K-0004"

    with engine.connect() as conn:
        stored = {
            row.source_id: row
            for row in conn.execute(
                text(
                    "SELECT s.source_id, s.sex, s.birth_date, s.national_id_masked, "
                    "e.benefit_code, e.start_date, e.amount, e.status, e.target_group "
                    "FROM source_record s JOIN enrolment e ON e.source_record_id = s.id"
                )
            )
        }
    assert sorted(stored) == [f"K-{n:04d}" for n in GOOD_ROWS]
    first = stored["K-0002"]
    person = export.persons[0]
    # code translations (1/2 -> M/F, BST/STU -> L402), both date formats, decimal comma
    assert first.sex == person.sex
    assert first.birth_date == person.birth_date
    assert first.benefit_code == "1.12.0.1"  # row 2 is even: STU
    assert stored["K-0003"].benefit_code == "1.12.0.2"
    assert first.start_date == date(2023, 2, 1)
    assert float(first.amount) == 2033.68
    assert (first.status, first.target_group) == ("active", "1.2.2")
    assert first.national_id_masked is not None
    assert stored["K-0009"].national_id_masked is None


def test_reimporting_the_same_file_changes_nothing(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    data = csv_bytes(export)
    first = run(engine, settings, data)
    before = table_counts(engine)
    assert before["feed_batch"] == 3 and before["source_record"] == 4

    again = run(engine, settings, data)
    assert table_counts(engine) == before
    s = again.summary
    assert (s.accepted, s.unchanged, s.rejected) == (0, 4, 3)
    assert (s.created, s.linked, s.review) == (0, 0, 0)
    assert s.replayed_batches == s.batches == 3
    assert rejects_by_row(again) == rejects_by_row(first)


def test_the_same_rows_in_other_batches_are_unchanged_records(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    data = csv_bytes(export)
    run(engine, settings, data, batch_size=3)
    before = table_counts(engine)
    other = run(engine, settings, data, batch_size=2)  # new batch ids, same records
    after = table_counts(engine)
    assert other.summary.replayed_batches == 0
    assert (other.summary.accepted, other.summary.unchanged) == (0, 4)
    assert {k: v for k, v in after.items() if k != "feed_batch"} == {
        k: v for k, v in before.items() if k != "feed_batch"
    }


def test_xlsx_with_typed_cells_and_a_named_sheet(
    engine: Engine, superuser_engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    csv_result = run(engine, settings, csv_bytes(export))
    with engine.connect() as conn:
        from_csv = conn.execute(
            text("SELECT source_id, national_id_digest, birth_date FROM source_record")
        ).all()
    engine_rows = sorted(from_csv)
    with superuser_engine.begin() as conn:  # record versions are append-only: a superuser
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "TRUNCATE source_record, source_record_version, enrolment, feed_batch, person "
                "RESTART IDENTITY CASCADE"
            )
        )

    result = run(engine, settings, xlsx_bytes(export), mapping_json(sheet="Ark1"))
    s = result.summary
    assert s.format == "xlsx"
    assert (s.rows_read, s.accepted, s.rejected) == (7, 4, 3)
    assert rejects_by_row(result) == rejects_by_row(csv_result)
    assert s.warnings == 0  # the CPR typed as a number got its leading zero back
    with engine.connect() as conn:
        from_xlsx = conn.execute(
            text("SELECT source_id, national_id_digest, birth_date FROM source_record")
        ).all()
    assert sorted(from_xlsx) == engine_rows  # same IDs (digests) and dates as from the CSV


def test_a_missing_sheet_or_column_is_refused_before_anything_is_stored(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    with pytest.raises(InvalidInput, match="no sheet 'Ark9'"):
        run(engine, settings, xlsx_bytes(export), mapping_json(sheet="Ark9"))
    columns = dict(MAPPING["columns"], Tlf="mother_name")
    del columns["Mor"]
    with pytest.raises(InvalidInput, match="no column 'Tlf'"):
        run(engine, settings, csv_bytes(export), mapping_json(columns=columns))
    assert table_counts(engine)["feed_batch"] == 0


def test_encoding_and_delimiter_come_from_the_mapping(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    latin = csv_bytes(export, encoding="cp1252")
    with pytest.raises(InvalidInput):  # Fødselsdato is not UTF-8 in a cp1252 file
        run(engine, settings, latin)
    result = run(
        engine, settings, latin, mapping_json(csv={"delimiter": ";", "encoding": "cp1252"})
    )
    assert (result.summary.accepted, result.summary.rejected) == (4, 3)
    with pytest.raises(InvalidInput, match="no column"):
        run(engine, settings, csv_bytes(export), mapping_json(csv={"delimiter": ","}))


def test_the_mapping_is_for_its_own_programme(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    with pytest.raises(InvalidInput, match="programme 'SEL104'"):
        run(engine, settings, csv_bytes(export), mapping_json(programme="SEL104"))


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"columns": {"A": "given_name"}}, "source_id"),
        ({"columns": {"A": "source_id", "B": "nickname"}}, "columns.B"),
        ({"columns": {"A": "source_id", "B": {"field": "sex", "date_format": "%d"}}}, "columns.B"),
        ({"columns": {"A": "source_id", "B": "sex"}, "constants": {"sex": "F"}}, "sex"),
        ({"columns": {"A": "source_id"}, "constants": {"birth_date": "1.2.1980"}}, "constants"),
        ({"columns": {"A": "source_id"}, "csv": {"encoding": "klingon"}}, "csv.encoding"),
        ({"columns": {"A": "source_id"}, "colums": {}}, "colums"),
        ({"columns": {"A": "source_id"}, "constants": {"given_name": "a\u0000b"}}, "mapping"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_problem(
    document: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_mapping(document)
    assert refused.value.errors
    assert any(e["field"].startswith(where) for e in refused.value.errors), refused.value.errors


def test_the_mapping_must_be_json() -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_mapping("columns: {A: source_id}")
    assert parse_mapping(json.loads(mapping_json())).digest == load_mapping(mapping_json()).digest


@pytest.mark.parametrize("workers", [1, 4])
def test_versions_of_a_record_in_one_file_apply_in_file_order(
    engine: Engine,
    settings: Settings,
    sel85: str,
    export: Export,
    workers: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = [row for row in export.rows if row[0] in ("K-0002", "K-0003", "K-0005", "K-0009")]
    rows = []
    for n in range(12):  # K-0002 again and again, amounts 1..12, among other records
        rows.append([*good[0][:12], f"{n + 1},00", ""])
        rows.append(good[1 + n % 3])
    data = csv_bytes(Export(export.persons, rows))
    real_send = service._send
    active: list[set[str]] = []
    overlaps: list[str] = []
    most = [0]
    guard = threading.Lock()

    def watched_send(sessions: Any, programme: Any, batch_id: str, batch: Any, *rest: Any) -> Any:
        ids = {r["source_id"] for r in batch.records}
        with guard:
            overlaps.extend(i for other in active for i in ids & other)
            active.append(ids)
            most[0] = max(most[0], len(active))
        try:
            time.sleep(0.02)  # widen the window in which a wrong scheduler would overlap
            return real_send(sessions, programme, batch_id, batch, *rest)
        finally:
            with guard:
                active.remove(ids)

    monkeypatch.setattr(service, "_send", watched_send)
    result = run(engine, settings, data, batch_size=1, workers=workers)
    assert result.summary.rows_read == 24 and result.summary.rejected == 0
    assert not overlaps  # batches sharing a source_id never ran at the same time
    assert most[0] == 1 if workers == 1 else 2 <= most[0] <= workers  # batches did overlap
    with engine.connect() as conn:
        version, amount = conn.execute(
            text(
                "SELECT s.version, e.amount FROM source_record s JOIN enrolment e "
                "ON e.source_record_id = s.id AND e.superseded_at IS NULL "
                "WHERE s.source_id = 'K-0002'"
            )
        ).one()
    assert (version, float(amount)) == (12, 12.0)


def test_workers_out_of_range_are_refused(
    engine: Engine, settings: Settings, sel85: str, export: Export
) -> None:
    with pytest.raises(InvalidInput, match="workers"):
        run(engine, settings, csv_bytes(export), workers=0)


def versions_file(export: Export) -> bytes:
    """24 rows: K-0002 twelve times (amounts 1..12), between three other records."""
    good = [row for row in export.rows if row[0] in ("K-0002", "K-0003", "K-0005", "K-0009")]
    rows = []
    for n in range(12):
        rows.append([*good[0][:12], f"{n + 1},00", ""])
        rows.append(good[1 + n % 3])
    return csv_bytes(Export(export.persons, rows))


def test_worker_processes_ingest_the_batches_in_file_order(
    engine: Engine, settings: Settings, sel85: str, export: Export, database_url: str
) -> None:
    result = run(
        engine, settings, versions_file(export), batch_size=1, workers=2, database_url=database_url
    )
    s = result.summary
    # K-0003, K-0005 and K-0009 come four times each, unchanged after their first
    assert (s.rows_read, s.accepted, s.unchanged, s.rejected, s.batches) == (24, 15, 9, 0, 24)
    assert len(result.batch_pids) == 2 and os.getpid() not in result.batch_pids
    with engine.connect() as conn:
        amounts = conn.execute(
            text(
                "SELECT v.payload -> 'enrolment' ->> 'amount' FROM source_record_version v "
                "JOIN source_record s ON s.id = v.source_record_id "
                "WHERE s.source_id = 'K-0002' ORDER BY v.version"
            )
        ).scalars()
        assert [float(a) for a in amounts] == [float(n) for n in range(1, 13)]
        events = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'feed.import'")
        ).scalar_one()
    assert events == 24


def test_worker_processes_answer_as_threads_do_and_a_reimport_changes_nothing(
    engine: Engine, settings: Settings, sel85: str, export: Export, database_url: str
) -> None:
    data = csv_bytes(export)
    first = run(engine, settings, data, batch_size=2, workers=3, database_url=database_url)
    s = first.summary
    assert (s.rows_read, s.accepted, s.rejected, s.unchanged) == (7, 4, 3, 0)
    assert rejects_by_row(first) == dict(BAD_ROWS)
    assert [r.row for r in first.rejected_rows] == sorted(r.row for r in first.rejected_rows)
    assert first.batch_pids and os.getpid() not in first.batch_pids
    before = table_counts(engine)
    again = run(engine, settings, data, batch_size=2, workers=3, database_url=database_url)
    assert table_counts(engine) == before
    assert (again.summary.unchanged, again.summary.accepted) == (4, 0)
    assert again.summary.replayed_batches == again.summary.batches == s.batches
    # the same file through threads (same batch ids): the stored answers, nothing new
    threads = run(engine, settings, data, batch_size=2, workers=3)
    assert threads.batch_pids == {os.getpid()}
    assert rejects_by_row(threads) == rejects_by_row(first)
    assert table_counts(engine) == before


def test_a_file_of_one_batch_runs_without_a_pool(
    engine: Engine, settings: Settings, sel85: str, export: Export, database_url: str
) -> None:
    result = run(
        engine, settings, csv_bytes(export), batch_size=100, workers=4, database_url=database_url
    )
    assert result.summary.accepted == 4 and result.batch_pids == {os.getpid()}


def test_a_worker_process_that_cannot_start_raises_its_error_here(
    engine: Engine, settings: Settings, sel85: str, export: Export, database_url: str
) -> None:
    nowhere = make_url(database_url).set(database="registry_no_such_database")
    with pytest.raises(DBAPIError, match="registry_no_such_database"):
        run(
            engine,
            settings,
            versions_file(export),
            batch_size=1,
            workers=2,
            database_url=nowhere.render_as_string(hide_password=False),
        )
    assert table_counts(engine)["feed_batch"] == 0
