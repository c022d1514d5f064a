"""File import: rows mapped to feed records, sent through the one submission flow in batches.

Each batch of N rows is one `submit_batch` call in its own transaction (committed before the
next), under a batch_id derived from the file's SHA-256, the mapping's digest, the batch size
and the batch number. Importing the same file again therefore replays the stored answers
and changes nothing; an interrupted import resumes where it stopped.

This process reads and maps the file; the batches run either in threads of this process (the
upload endpoint, inside the server's own workers) or, given a database URL, in worker
processes with an engine each (`registry import`): validation, normalisation, blocking keys
and scoring are Python, and processes run them side by side instead of taking turns at one
interpreter lock.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import asdict, dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from registry.audit.service import AuditContext
from registry.core.csvfile import csv_writer
from registry.core.db import make_engine, session_factory
from registry.core.errors import InvalidInput
from registry.core.settings import Settings
from registry.imports import DEFAULT_BATCH_SIZE, DEFAULT_WORKERS, MAX_WORKERS
from registry.imports.limits import LIMITS
from registry.imports.mapping import ColumnMapping, RowMapper
from registry.imports.readers import fingerprint, open_rows
from registry.ingest.service import BatchOutcome
from registry.programmes.models import Programme
from registry.programmes.service import get_programme
from registry.submission.flow import (
    FEED_DRY_RUN,
    FILE_IMPORT,
    Channel,
    preview_batch,
    submit_batch,
)

REJECT_COLUMNS = ("row", "source_id", "column", "field", "code", "message")
#: What a finished batch adds to the summary (ImportSummary attribute names).
_COUNTED = (
    "accepted",
    "rejected",
    "unchanged",
    "created",
    "linked",
    "review",
    "retracted",
    "warnings",
)


@dataclass(frozen=True)
class RejectedRow:
    """One reason a row did not make it into the registry."""

    row: int
    source_id: str | None
    column: str | None
    field: str
    code: str
    message: str


@dataclass
class ImportSummary:
    """What an import did, row by row counted."""

    programme: str
    file_sha256: str
    format: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    created: int = 0
    linked: int = 0
    review: int = 0
    retracted: int = 0
    warnings: int = 0
    batches: int = 0
    replayed_batches: int = 0
    #: Rejection reasons not kept (past ImportLimits.reasons, the first by row kept).
    reasons_omitted: int = 0
    seconds: float = 0.0
    #: A test import: every batch previewed and rolled back, nothing kept but audit events.
    dry_run: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def view(self) -> SummaryView:
        """The summary as answered: seconds and the rate rounded."""
        return SummaryView(
            **{**asdict(self), "seconds": round(self.seconds, 3)},
            rows_per_second=round(self.rows_per_second, 1),
        )


@dataclass(frozen=True)
class SummaryView:
    """What an import did, as answered (ImportSummary's counts, with the rate)."""

    programme: str
    file_sha256: str
    format: str
    rows_read: int
    accepted: int
    rejected: int
    unchanged: int
    created: int
    linked: int
    review: int
    retracted: int
    warnings: int
    batches: int
    replayed_batches: int
    reasons_omitted: int
    seconds: float
    rows_per_second: float
    dry_run: bool = False


@dataclass(frozen=True)
class ImportAnswer:
    """The answer to an import: the summary, the file's unmapped columns, the rejected rows."""

    summary: SummaryView
    ignored_columns: list[str]
    rejected_rows: list[RejectedRow]


@dataclass
class ImportResult:
    """The summary, every rejected row's reasons, the file's columns left unmapped, and the
    processes the batches ran in."""

    summary: ImportSummary
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    batch_pids: set[int] = field(default_factory=set)
    #: How many rejection reasons are kept (the first by row); the rest are only counted.
    keep_reasons: int = LIMITS.reasons

    def answer(self) -> ImportAnswer:
        """The result as answered to the uploader."""
        return ImportAnswer(self.summary.view(), self.ignored_columns, self.rejected_rows)

    def add_reasons(self, reasons: Iterable[RejectedRow]) -> None:
        """Keep rejection reasons in bounded memory: the first `keep_reasons` by row."""
        self.rejected_rows.extend(reasons)
        if len(self.rejected_rows) > 2 * self.keep_reasons:
            self.trim_reasons()

    def trim_reasons(self) -> None:
        """Sort the kept reasons by row and drop those past `keep_reasons` (counted)."""
        self.rejected_rows.sort(key=lambda r: r.row)
        if len(self.rejected_rows) > self.keep_reasons:
            self.summary.reasons_omitted += len(self.rejected_rows) - self.keep_reasons
            del self.rejected_rows[self.keep_reasons :]


@dataclass
class _Pending:
    rows: int = 0
    numbers: list[int] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    """What every batch of one import shares; given once to each worker process."""

    programme_code: str
    mapping: ColumnMapping
    settings: Settings
    submitted_by: str
    audit: AuditContext
    origin: dict[str, Any]
    dry_run: bool = False


@dataclass
class _Done:
    """One batch's share of the result, counted where the batch ran."""

    rows: int
    replayed: bool
    counts: Counter[str]
    rejected_rows: list[RejectedRow]
    pid: int


class _Runner:
    """Runs the batches of one import through `_send` and counts their results."""

    def __init__(self, sessions: Callable[[], Session], programme: Programme, job: _Job) -> None:
        self.sessions = sessions
        self.programme = programme
        self.job = job

    def run(self, batch_id: str, pending: _Pending) -> _Done:
        """Ingest and audit one batch in its own transaction; its counts and rejected rows."""
        job = self.job
        outcome = _send(
            self.sessions,
            self.programme,
            batch_id,
            pending,
            job.settings,
            job.submitted_by,
            job.audit,
            job.origin,
            job.dry_run,
        )
        return _count(job.mapping, pending, outcome)


#: A worker process's runner, or what kept it from starting (raised by its first batch).
_worker_runner: _Runner | Exception | None = None


def _start_worker(database_url: str, job: _Job) -> None:
    """Pool initializer: this process's own engine, and the programme read once."""
    global _worker_runner
    try:
        engine = make_engine(database_url, pool_size=1)
        Finalize(engine, engine.dispose, exitpriority=10)
        sessions = session_factory(engine)
        with sessions() as session:
            programme = get_programme(session, job.programme_code)
        _worker_runner = _Runner(sessions, programme, job)
    except Exception as exc:  # raised from an initializer it would only break the pool
        _worker_runner = exc


def _run_in_worker(batch_id: str, pending: _Pending) -> _Done:
    """One batch in a worker process, by the runner `_start_worker` made."""
    runner = _worker_runner
    if isinstance(runner, Exception):
        raise runner
    if runner is None:
        raise RuntimeError("the import worker process was not initialised")
    return runner.run(batch_id, pending)


def _process_pool(workers: int, database_url: str, job: _Job) -> ProcessPoolExecutor:
    """Worker processes forked from a fresh server process (not from this threaded one)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(database_url, job)
    )


def batch_prefix(file_sha256: str, mapping: ColumnMapping, batch_size: int) -> str:
    """The batch_id stem of an import: same file, mapping and batch size, same ids."""
    key = hashlib.sha256(f"{file_sha256}:{mapping.digest}:{batch_size}".encode()).hexdigest()
    return f"file-{key[:24]}"


def import_file(
    sessions: Callable[[], Session],
    *,
    programme_code: str,
    stream: IO[bytes],
    mapping: ColumnMapping,
    settings: Settings,
    submitted_by: str,
    audit: AuditContext,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int, int], None] | None = None,
    file_name: str | None = None,
    database_url: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import one CSV/XLSX export; one transaction per batch, up to `workers` at a time.

    Without `database_url` the batches run in threads using `sessions`; with it, in `workers`
    processes with an engine each (a file of one batch runs here, without a pool). Batches
    sharing a source_id never run at the same time, so a record's versions are applied in
    file order; the ingest service's programme lock serialises the linking itself. A dry run
    previews each batch on its own and rolls it back (submission.flow.preview_batch).
    """
    started = time.perf_counter()
    if not 1 <= batch_size <= settings.max_batch_records:
        raise InvalidInput(f"the batch size must be between 1 and {settings.max_batch_records}")
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(f"workers must be between 1 and {MAX_WORKERS}")
    if mapping.programme is not None and mapping.programme != programme_code:
        raise InvalidInput(
            f"the mapping is for programme {mapping.programme!r}, not {programme_code!r}"
        )
    with sessions() as session:
        programme = get_programme(session, programme_code)
    if file_name is not None:
        file_name = "".join(c for c in file_name if c.isprintable())[:200] or None
    print_ = fingerprint(stream)
    summary = ImportSummary(programme_code, print_.sha256, print_.kind, dry_run=dry_run)
    result = ImportResult(summary)
    prefix = batch_prefix(print_.sha256, mapping, batch_size)
    origin = {"file_sha256": print_.sha256, "file_name": file_name}
    job = _Job(programme_code, mapping, settings, submitted_by, audit, origin, dry_run)
    here = _Runner(sessions, programme, job)
    pool: Executor | None = None
    held: tuple[str, _Pending] | None = None  # the first batch, until a second needs a pool
    in_flight: dict[Future[_Done], set[Any]] = {}
    done_rows = 0
    submitted = 0

    def report(rows: int) -> None:
        nonlocal done_rows
        done_rows += rows
        if progress is not None:
            progress(done_rows, print_.approx_rows)

    def take(done: _Done) -> None:
        _merge(result, done)
        report(done.rows)

    def collect(enough: Callable[[], bool]) -> None:
        """Take in finished batches until `enough()` holds (or none is in flight)."""
        while in_flight and not enough():
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                in_flight.pop(future)
                take(future.result())

    def dispatch(executor: Executor, batch_id: str, batch: _Pending) -> None:
        """Hand a batch to the pool once a worker is free and no batch of its ids runs."""
        ids = {r.get("source_id") for r in batch.records}
        collect(
            lambda: (
                len(in_flight) < workers
                and all(ids.isdisjoint(other) for other in in_flight.values())
            )
        )
        if isinstance(executor, ProcessPoolExecutor):
            in_flight[executor.submit(_run_in_worker, batch_id, batch)] = ids
        else:
            in_flight[executor.submit(here.run, batch_id, batch)] = ids

    def submit(batch: _Pending) -> None:
        nonlocal submitted, pool, held
        if not batch.records:
            report(batch.rows)
            return
        submitted += 1
        batch_id = f"{prefix}-{submitted:06d}"
        if workers == 1:
            take(here.run(batch_id, batch))
            return
        if pool is None:
            if held is None:
                held = (batch_id, batch)
                return
            if database_url is not None:
                pool = _process_pool(workers, database_url, job)
            else:
                pool = ThreadPoolExecutor(workers, thread_name_prefix="registry-import")
            dispatch(pool, *held)
            held = None
        dispatch(pool, batch_id, batch)

    try:
        with open_rows(stream, print_.kind, mapping) as (header, rows):
            mapper = RowMapper(mapping, header)
            result.ignored_columns = mapper.ignored
            pending = _Pending()
            for number, values in rows:
                summary.rows_read += 1
                pending.rows += 1
                record, issues = mapper.record(values)
                if issues:
                    summary.rejected += 1
                    source_id = record.get("source_id")
                    result.add_reasons(
                        RejectedRow(
                            number,
                            source_id if isinstance(source_id, str) else None,
                            mapping.column_of(issue["field"]),
                            issue["field"],
                            issue["code"],
                            issue["message"],
                        )
                        for issue in issues
                    )
                else:
                    pending.numbers.append(number)
                    pending.records.append(record)
                if pending.rows >= batch_size:
                    submit(pending)
                    pending = _Pending()
            submit(pending)
        if held is not None:  # the whole file was one batch: no pool for it
            take(here.run(*held))
        collect(lambda: False)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    result.trim_reasons()
    summary.seconds = time.perf_counter() - started
    return result


def _send(
    sessions: Callable[[], Session],
    programme: Programme,
    batch_id: str,
    pending: _Pending,
    settings: Settings,
    submitted_by: str,
    audit: AuditContext,
    origin: dict[str, Any],
    dry_run: bool = False,
) -> BatchOutcome:
    """One batch through submit_batch (or previewed), in a session (and transaction) of its own."""
    channel = Channel(
        submitted_by,
        audit,
        FEED_DRY_RUN if dry_run else FILE_IMPORT,
        {
            "rows": [pending.numbers[0], pending.numbers[-1]],
            **{k: v for k, v in origin.items() if v is not None},
        },
    )
    send = preview_batch if dry_run else submit_batch
    with sessions() as session:
        return send(
            session,
            programme=programme,
            batch_id=batch_id,
            records=pending.records,
            channel=channel,
            settings=settings,
        )


def _count(mapping: ColumnMapping, pending: _Pending, outcome: BatchOutcome) -> _Done:
    """A batch's results as counts; rejected results become rejected rows."""
    counts: Counter[str] = Counter()
    rejected: list[RejectedRow] = []
    for number, item in zip(pending.numbers, outcome.answer.results, strict=True):
        status = item.status
        counts["warnings"] += len(item.warnings or ())
        if status == "rejected":
            counts["rejected"] += 1
            rejected.extend(
                RejectedRow(
                    number,
                    item.source_id,
                    mapping.column_of(error.field),
                    error.field,
                    error.code,
                    error.message,
                )
                for error in item.errors or ()
            )
        elif outcome.replayed or status == "unchanged":
            counts["unchanged"] += 1
        else:
            counts["accepted"] += 1
            if status in ("created", "linked", "review", "retracted"):
                counts[status] += 1
    return _Done(pending.rows, outcome.replayed, counts, rejected, os.getpid())


def _merge(result: ImportResult, done: _Done) -> None:
    """Add one finished batch to the result."""
    summary = result.summary
    summary.batches += 1
    summary.replayed_batches += done.replayed
    for name in _COUNTED:
        setattr(summary, name, getattr(summary, name) + done.counts[name])
    result.add_reasons(done.rejected_rows)
    result.batch_pids.add(done.pid)


def write_rejects(path: Path, rows: Iterable[RejectedRow]) -> int:
    """Write the rejected rows as CSV (row, source_id, column, field, code, message)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(REJECT_COLUMNS)
        for row in rows:
            writer.writerow(
                [row.row, row.source_id or "", row.column or "", row.field, row.code, row.message]
            )
            count += 1
    return count
