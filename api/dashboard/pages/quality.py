"""A programme's feed quality page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.data import last_batches
from api.dashboard.nav import FEED_READERS
from api.dashboard.web import (
    CSV_TOO,
    Format,
    Lang,
    ViewerDep,
    audit_view,
    csv_response,
    new_router,
    page,
    render,
)
from api.deps import SessionDep, SettingsDep
from api.params import ProgrammeCodeQuery
from registry.audit.reads import quality_report_persons
from registry.overview.export import to_csv, write_csv
from registry.overview.quality import quality_report
from registry.overview.schemas import to_json
from registry.programmes.service import get_programme, list_programmes

router = new_router()


@router.get(
    "/quality",
    dependencies=[page(*FEED_READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def quality_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    programme: ProgrammeCodeQuery = None,
    table: Annotated[Literal["report", "batches"], Query()] = "report",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """A feed's data-quality report and its last batches; first, the choice of feed."""
    codes = [p.code for p in list_programmes(session)]
    if programme is None:
        return render(request, "quality.html", principal=principal, codes=codes, report=None)
    report = quality_report(session, principal, programme, k=settings.suppression_k)
    batches = last_batches(session, get_programme(session, programme))
    # the report's CSV lists the source ids of its errors: name the persons behind them
    named = (
        quality_report_persons(session, to_json(report))
        if (format, table) == ("csv", "report")
        else []
    )
    audit_view(
        request, session, principal, "quality", {"programme": programme, "format": format}, named
    )
    if format == "csv":
        if table == "batches":
            return csv_response(write_csv(batches), f"batches-{programme}.csv")
        return csv_response(to_csv("quality", report), f"quality-{programme}.csv")
    codes_seen = sorted({c for q in report.quarters for c in q.recipients})
    return render(
        request,
        "quality.html",
        principal=principal,
        codes=codes,
        programme=programme,
        report=report,
        benefit_codes=codes_seen,
        batches=batches,
    )
