"""`registry import`: a legacy MIS export (CSV or XLSX) through the feed ingest, with progress."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from registry.imports import DEFAULT_BATCH_SIZE, MAX_WORKERS, default_processes

if TYPE_CHECKING:
    from registry.imports.service import ImportResult


def register(app: typer.Typer) -> None:
    """Add the `import` command to the registry CLI."""

    @app.command(
        "import",
        epilog="Example:\n\n  registry import --programme SEL85 --mapping sel85.json udtraek.csv",
    )
    def import_command(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="The CSV or XLSX export to import.")],
        programme: Annotated[str, typer.Option(help="Programme code the file belongs to.")],
        mapping: Annotated[Path, typer.Option(help="Column-mapping JSON file.")],
        rejects: Annotated[
            Path | None,
            typer.Option(help="Rejected-rows CSV (default: <FILE name>.rejected.csv here)."),
        ] = None,
        batch_size: Annotated[int, typer.Option(help="Rows per ingest batch.")] = (
            DEFAULT_BATCH_SIZE
        ),
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=MAX_WORKERS,
                help="Worker processes, each ingesting one batch at a time "
                "(default: one per CPU; 1 = one batch after another, in this process).",
            ),
        ] = default_processes(),
        debug: Annotated[
            bool, typer.Option(help="Show the traceback of an error (as registry --debug).")
        ] = False,
    ) -> None:
        """Import a programme's CSV/XLSX export; re-importing the same file changes nothing.

        Shows progress (rows/s), writes the rejected rows with row number, field and reason,
        and ends with a summary.
        """
        if debug:
            from registry.cli.help import DEBUG

            ctx.meta[DEBUG] = True
        result = run_import(file, programme, mapping, batch_size, workers)
        target = rejects or Path(f"{file.name}.rejected.csv")
        written = None
        if result.rejected_rows or rejects is not None:
            from registry.imports.service import write_rejects

            write_rejects(target, result.rejected_rows)
            written = target
        typer.echo(summary_screen(result, file, written))


def run_import(
    file: Path, programme: str, mapping_file: Path, batch_size: int, workers: int | None = None
) -> ImportResult:
    """Run the import with a progress bar (rows/s), batches in worker processes; the CLI and
    the bench use it."""
    from tqdm import tqdm

    from registry.audit.service import AuditContext
    from registry.cli.engine import ready_engine
    from registry.core.db import session_factory
    from registry.core.settings import get_settings
    from registry.imports.mapping import read_mapping_file
    from registry.imports.service import import_file

    settings = get_settings()
    mapping = read_mapping_file(mapping_file)
    actor = f"cli:{getpass.getuser()}"
    with file.open("rb") as stream:
        engine = ready_engine()
        bar = tqdm(total=None, unit="rows", unit_scale=True, desc="importing", disable=None)

        def progress(done: int, approx_total: int) -> None:
            if approx_total and bar.total != approx_total:
                bar.total = max(approx_total, done)
            bar.update(done - bar.n)

        try:
            return import_file(
                session_factory(engine),
                programme_code=programme,
                stream=stream,
                mapping=mapping,
                settings=settings,
                submitted_by=actor,
                audit=AuditContext(actor=actor, roles=("cli",), enabled=settings.audit_enabled),
                batch_size=batch_size,
                workers=default_processes() if workers is None else workers,
                progress=progress,
                file_name=file.name,
                database_url=engine.url.render_as_string(hide_password=False),
            )
        finally:
            bar.close()


def summary_screen(result: ImportResult, file: Path, rejects: Path | None) -> str:
    """The one-screen summary printed at the end of an import."""
    s = result.summary
    lines = [
        f"imported {file.name} into {s.programme} ({s.format}, sha256 {s.file_sha256[:12]})",
        f"  rows read   {s.rows_read:>10,}",
        f"  accepted    {s.accepted:>10,}   created {s.created:,}, linked {s.linked:,}, "
        f"review {s.review:,}",
        f"  rejected    {s.rejected:>10,}"
        + (f"   reasons in {rejects}" if rejects is not None else ""),
        f"  unchanged   {s.unchanged:>10,}"
        + ("   (already imported: nothing changed)" if s.replayed_batches == s.batches > 0 else ""),
        f"  warnings    {s.warnings:>10,}",
        f"  batches     {s.batches:>10,}   {s.replayed_batches:,} answered from earlier imports, "
        f"run in {len(result.batch_pids):,} process(es)",
        f"  time        {s.seconds:>10.1f}s  {s.rows_per_second:,.0f} rows/s",
    ]
    if result.ignored_columns:
        lines.append("  columns not mapped (ignored): " + ", ".join(result.ignored_columns))
    for row in result.rejected_rows[:5]:
        lines.append(f"  row {row.row}: {row.field}: {row.message}")
    if len(result.rejected_rows) > 5:
        lines.append(f"  … {len(result.rejected_rows) - 5:,} more reasons in {rejects}")
    if s.reasons_omitted:
        lines.append(
            f"  {s.reasons_omitted:,} more reasons not listed (only the first "
            f"{len(result.rejected_rows):,} by row are kept)"
        )
    return "\n".join(lines)
