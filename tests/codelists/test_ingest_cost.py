"""The lists cost a batch one cheap statement, whatever its size; a new load is seen at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from registry.codelists.service import load_list
from registry.core.db import transaction
from registry.core.settings import Settings
from registry.ingest.service import ingest_batch
from registry.programmes.service import get_programme
from registry.records.fields import STATUSES
from tests.factories import make_programme, record


@contextmanager
def _code_list_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "code_list" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _ingest(engine: Engine, settings: Settings, batch: str, records: list[Any]) -> Any:
    with transaction(engine) as session:
        return ingest_batch(
            session,
            programme=get_programme(session, "NGO1"),
            batch_id=batch,
            records=records,
            submitted_by="test",
            settings=settings,
        ).answer


def test_a_batch_reads_the_lists_once_not_per_record(engine: Engine, settings: Settings) -> None:
    make_programme(engine, "NGO1", ["1.12.0.2"])
    _ingest(engine, settings, "warm", [record("W-1", national_id=None)])
    with _code_list_statements(engine) as one:
        _ingest(engine, settings, "one", [record("A-1", national_id=None)])
    with _code_list_statements(engine) as many:
        _ingest(engine, settings, "many", [record(f"B-{i}", national_id=None) for i in range(40)])
    assert len(one) == len(many) == 1  # the staleness stamp; the lists come from the cache
    # a list loaded since is seen by the next batch (the stamp moved)
    with transaction(engine) as session:
        load_list(
            session,
            name="ngo1_statuses",
            kind="status_map",
            owner="NGO1",
            entries=[{"code": "exited", "attributes": {"status": "ended"}}],
            statuses=STATUSES,
            source="test",
            loaded_by="test",
        )
    with _code_list_statements(engine) as reloaded:
        answer = _ingest(
            engine,
            settings,
            "mapped",
            [
                record(
                    "C-1",
                    national_id=None,
                    enrolment={"status": "exited", "end_date": "2024-01-01"},
                )
            ],
        )
    assert len(reloaded) == 2 and answer.accepted == 1
