"""A feed's data-quality report (roles: the programme's feed client, steward, oversight)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep, SettingsDep
from api.params import ProgrammeCodePath
from api.routers.overview import CSV_TOO, answer
from registry.audit.manifest import record_naming
from registry.audit.reads import quality_report_persons
from registry.overview.quality import quality_report
from registry.overview.schemas import QualityReport, to_json

router = APIRouter(prefix="/api/v1/programmes/{code}", tags=["quality"])


@router.get(
    "/quality",
    dependencies=[allow("feed", "steward", "oversight", scope="programme")],
    response_model=QualityReport,
    responses=CSV_TOO,
)
def read_quality(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    recorded_at: datetime | None = None,
    per_category: int = Query(100, ge=1, le=10_000),
    spike_factor: float = Query(10.0, gt=1),
    spike_min: int = Query(10, ge=2),
    jump_ratio: float = Query(0.2, gt=0),
    jump_min: int = Query(10, ge=1),
    batches: int = Query(100, ge=2, le=10_000),
    suppress: bool = False,
) -> Response:
    """Recipients per quarter and benefit code, error lists, and detected data breaks."""
    body = quality_report(
        session,
        principal,
        code,
        start,
        end,
        recorded_at=recorded_at,
        per_category=per_category,
        spike_factor=spike_factor,
        spike_min=spike_min,
        jump_ratio=jump_ratio,
        jump_min=jump_min,
        batches=batches,
        suppress=suppress,
        k=settings.suppression_k,
    )
    record_naming(
        session,
        audit,
        "programme.quality",
        person_ids=quality_report_persons(session, to_json(body)),
        detail={"programme": code},
    )
    return answer(request, "quality", body)
