"""A programme's feed quality page: batches, recipients, errors apart from warnings, breaks.

The report's counts name nobody; the drill-down list of one category (`category=`) shows
records (batch, source id, field, problem) and its audit event names exactly the persons
holding the records shown.
"""

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
    language,
    new_router,
    page,
    render,
)
from api.deps import SessionDep, SettingsDep
from api.params import ProgrammeCodeQuery
from registry.audit.reads import quality_report_persons, record_persons
from registry.overview.export import to_csv, write_csv
from registry.overview.findings import FINDING_CODES
from registry.overview.quality import CATEGORIES, quality_report
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
    category: Annotated[Literal[CATEGORIES] | None, Query()] = None,  # type: ignore[valid-type]
    finding: Annotated[Literal[FINDING_CODES] | None, Query()] = None,  # type: ignore[valid-type]
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """A feed's data-quality report and its last batches; first, the choice of feed."""
    codes = [p.code for p in list_programmes(session)]
    if programme is None:
        return render(
            request,
            "quality.html",
            principal=principal,
            codes=codes,
            report=None,
            category=None,
            shown_finding=None,
        )
    report = quality_report(session, principal, programme, k=settings.suppression_k)
    batches = last_batches(session, get_programme(session, programme))
    items = report.errors[category].items if category is not None and format == "html" else []
    if (format, table) == ("csv", "report"):
        # the report's CSV lists the source ids of its errors: name the persons behind them
        named = quality_report_persons(session, to_json(report))
    else:  # the drill-down names the persons of the records it shows; the counts nobody
        named = record_persons(session, programme, (i.source_id for i in items))
    shown_finding = next((f for f in report.findings if f.code == finding), None)
    if shown_finding is not None and format == "html":
        named = record_persons(session, programme, shown_finding.source_ids or [])
    audit_view(
        request,
        session,
        principal,
        "quality",
        {"programme": programme, "format": format, "category": category}
        | ({"finding": finding} if finding else {}),
        named,
    )
    if format == "csv":
        lang_ = language(request)
        if table == "batches":
            return csv_response(write_csv(batches), f"batches-{programme}.csv", lang_)
        return csv_response(to_csv("quality", report), f"quality-{programme}.csv", lang_)
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
        category=category,
        items=items,
        shown_finding=shown_finding if format == "html" else None,
        jumps=[j for j in report.data_breaks.active_count_jumps if not j.first_load],
        first_load=[j for j in report.data_breaks.active_count_jumps if j.first_load],
        any_problems=any(e.count for e in report.errors.values()),
    )
