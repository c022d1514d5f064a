"""File feeds over HTTP: upload a CSV/XLSX export with its column mapping (role feed, own
programme); the same import service as `registry import`, so the same ingest path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SettingsDep
from api.params import ProgrammeCodePath
from registry.core.errors import Forbidden
from registry.imports import DEFAULT_BATCH_SIZE
from registry.imports.limits import LIMITS
from registry.imports.mapping import load_mapping
from registry.imports.service import ImportAnswer, import_file

router = APIRouter(prefix="/api/v1/programmes/{code}", tags=["imports"])

#: A mapping is a small JSON document; anything larger is a mistake.
MAX_MAPPING_CHARS = LIMITS.mapping_chars


def own_programme(principal: PrincipalDep, code: ProgrammeCodePath) -> None:
    """403 for a feed client of another programme, before the upload is even validated."""
    if not principal.may_write_programme(code):
        raise Forbidden(f"this client may not write programme {code!r}")


@router.post(
    "/imports",
    response_model=ImportAnswer,
    dependencies=[allow("feed", scope="programme"), Depends(own_programme)],
)
def post_import(
    request: Request,
    settings: SettingsDep,
    principal: PrincipalDep,
    audit: AuditDep,
    file: Annotated[UploadFile, File(description="The MIS export: CSV or XLSX (sniffed).")],
    mapping: Annotated[
        str,
        Form(
            max_length=MAX_MAPPING_CHARS,
            description="The column mapping as JSON (see docs/architecture.md, File feeds).",
        ),
    ],
    code: ProgrammeCodePath,
    batch_size: Annotated[int, Form(ge=1, le=10_000)] = DEFAULT_BATCH_SIZE,
    dry_run: Annotated[
        bool,
        Query(
            description="A test import: each batch validated and previewed, then rolled "
            "back; the summary carries dry_run: true, only audit events (feed.dry_run) stay."
        ),
    ] = False,
) -> ImportAnswer:
    """Import an export file: per-row rejects with row number and field, and a summary.

    Each batch of rows is committed on its own; uploading the same file (same mapping and
    batch size) again changes nothing and answers with the rows counted as unchanged.
    """
    result = import_file(
        request.app.state.sessions,  # one transaction per batch, beside the request's own
        programme_code=code,
        stream=file.file,
        mapping=load_mapping(mapping),
        settings=settings,
        submitted_by=principal.subject,
        audit=audit,
        batch_size=batch_size,
        file_name=file.filename,
        dry_run=dry_run,
    )
    return result.answer()
