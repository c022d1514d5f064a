"""Overview: who receives what across programmes, as of a date (roles oversight, analyst).

Every answer is JSON, or CSV when the request sends `Accept: text/csv`. The queries read
through ``ReadSessionDep`` (the read replica while it is fresh, issue 8); the audit events
naming the persons an answer shows are written through ``SessionDep``, on the primary.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, ReadSessionDep, SessionDep, SettingsDep
from api.params import OverviewParams
from registry.audit.service import AuditContext, record_event
from registry.core.errors import PayloadTooLarge
from registry.overview import duplicates as duplicate_service
from registry.overview import reconciliation as reconciliation_service
from registry.overview import service
from registry.overview.export import to_csv
from registry.overview.schemas import (
    Answer,
    Coverage,
    Duplicates,
    Overlaps,
    PersonsInProgrammes,
    Reconciliation,
    Timeseries,
    to_json,
)

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])

READERS = allow("oversight", "analyst")
MAX_REFERENCE_BYTES = 20 * 1024 * 1024
#: Every overview answer is JSON, or CSV on `Accept: text/csv`.
CSV_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def wants_csv(request: Request) -> bool:
    """True when the caller asks for CSV (`Accept: text/csv`)."""
    return "text/csv" in request.headers.get("accept", "").lower()


def answer(request: Request, kind: str, body: Answer) -> Response:
    """The answer as JSON, or as CSV when asked for."""
    if wants_csv(request):
        return Response(
            to_csv(kind, body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
        )
    return JSONResponse(to_json(body))


def _audit_persons(
    session: SessionDep,
    audit: AuditContext,
    action: str,
    persons: list[str],
    detail: dict[str, Any],
) -> None:
    """Person-level overview answers go to the audit trail with the persons they name."""
    record_event(session, audit, action, person_ids=persons, detail=detail)


@router.get("/coverage", dependencies=[READERS], response_model=Coverage, responses=CSV_TOO)
def read_coverage(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    query: OverviewParams,
    by: str = Query("programme", description="comma-separated: " + ", ".join(service.DIMENSIONS)),
) -> Response:
    """Distinct persons and enrolments active on a date, by the requested dimensions."""
    body = service.coverage(
        reads,
        principal,
        query.as_of,
        by,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return answer(request, "coverage", body)


@router.get("/overlaps", dependencies=[READERS], response_model=Overlaps, responses=CSV_TOO)
def read_overlaps(
    request: Request, reads: ReadSessionDep, principal: PrincipalDep, query: OverviewParams
) -> Response:
    """Persons active in both of each pair of programmes, and by number of programmes."""
    body = service.overlaps(
        reads,
        principal,
        query.as_of,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return answer(request, "overlaps", body)


@router.get(
    "/overlaps/persons",
    dependencies=[allow("oversight", scope="region")],
    response_model=PersonsInProgrammes,
    responses=CSV_TOO,
)
def read_persons_in_programmes(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    as_of: date | None = None,
    min_programmes: int = Query(2, ge=1, le=100),
    recorded_at: datetime | None = None,
    limit: int = Query(1000, ge=1, le=service.MAX_LIST),
    after: str | None = None,
) -> Response:
    """Persons in at least `min_programmes` programmes on a date, within your regions."""
    body = service.persons_in_programmes(
        reads,
        principal,
        as_of or date.today(),
        min_programmes=min_programmes,
        recorded_at=recorded_at,
        limit=limit,
        after=after,
    )
    _audit_persons(
        session,
        audit,
        "overview.persons",
        [p.person_id for p in body.persons],
        {"as_of": body.as_of, "min_programmes": min_programmes},
    )
    return answer(request, "persons", body)


@router.get("/timeseries", dependencies=[READERS], response_model=Timeseries, responses=CSV_TOO)
def read_timeseries(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    interval: str = Query("month", pattern="^(week|month|quarter)$"),
    programme: str | None = None,
    basis: str = Query(
        "during",
        pattern="^(during|end)$",
        description="active at any time in the period (during) or on its last day (end)",
    ),
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> Response:
    """Distinct active persons per programme per week, month or quarter between two dates."""
    body = service.timeseries(
        reads,
        principal,
        start,
        end,
        interval=interval,
        programme=programme,
        basis=basis,
        recorded_at=recorded_at,
        suppress=suppress,
        k=settings.suppression_k,
    )
    return answer(request, "timeseries", body)


@router.get("/duplicates", dependencies=[READERS], response_model=Duplicates, responses=CSV_TOO)
def read_duplicates(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    query: OverviewParams,
    programme: str | None = None,
) -> Response:
    """Persons enrolled twice in one programme, and persons in programmes marked exclusive."""
    body = duplicate_service.duplicates(
        reads,
        principal,
        query.as_of,
        programme=programme,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    named = [
        p.person_id
        for persons in (body.double_enrolments.persons, body.exclusive.persons)
        for p in persons or []
    ]
    if named:
        _audit_persons(session, audit, "overview.duplicates", named, {"programme": programme})
    return answer(request, "duplicates", body)


def _reconciliation_persons(body: Reconciliation) -> list[str]:
    """The persons a reconciliation answer lists (one side only, or differing)."""
    one_sided = [p.person_id for p in [*(body.left_only or []), *(body.right_only or [])]]
    return [*one_sided, *(p.person_id for p in body.differing or [])]


@router.get(
    "/reconciliation", dependencies=[READERS], response_model=Reconciliation, responses=CSV_TOO
)
def read_reconciliation(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    query: OverviewParams,
    left: str,
    right: str,
    benefit_code: str | None = None,
) -> Response:
    """Persons in one programme and not the other (both ways), and differing grants."""
    body = reconciliation_service.reconcile(
        reads,
        principal,
        left,
        right=right,
        as_of=query.as_of,
        benefit_code=benefit_code,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    named = _reconciliation_persons(body)
    if named:
        _audit_persons(
            session, audit, "overview.reconciliation", named, {"left": left, "right": right}
        )
    return answer(request, "reconciliation", body)


@router.post(
    "/reconciliation",
    dependencies=[allow("oversight", scope="region")],
    response_model=Reconciliation,
    responses=CSV_TOO,
)
def post_reconciliation(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    audit: AuditDep,
    left: str,
    reference: Annotated[
        UploadFile,
        File(description="CSV: source_id and/or national_id, benefit_code, start_date, end_date"),
    ],
    benefit_code: str | None = None,
    as_of: date | None = None,
) -> Response:
    """A programme against an uploaded reference extract: both directions and differing grants."""
    content = reference.file.read(MAX_REFERENCE_BYTES + 1)
    if len(content) > MAX_REFERENCE_BYTES:
        raise PayloadTooLarge(f"the reference file is larger than {MAX_REFERENCE_BYTES} bytes")
    rows = reconciliation_service.parse_reference(content)
    found = reconciliation_service.reconcile_reference(
        reads,
        principal,
        left,
        rows,
        as_of=as_of or date.today(),
        benefit_code=benefit_code,
        k=settings.suppression_k,
        national_id_scheme=settings.national_id_scheme,
        national_id_key=settings.secret("national_id_key").encode(),
    )
    # the persons the upload found (within the caller's regions) and those the answer lists;
    # rows that found nobody the caller may read are counted only
    _audit_persons(
        session,
        audit,
        "overview.reconciliation",
        [*found.looked_up, *_reconciliation_persons(found.body)],
        {
            "left": left,
            "right": "reference",
            "reference_rows": len(rows),
            "looked_up": len(found.looked_up),
            "not_compared": found.not_compared,
        },
    )
    return answer(request, "reconciliation", found.body)
