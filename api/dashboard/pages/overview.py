"""The oversight pages: home, coverage, overlaps, counts, trends, duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.labels import LABELS
from api.dashboard.nav import ANY_PAGE, READERS
from api.dashboard.svg import bar_chart, heatmap, line_chart
from api.dashboard.web import (
    CSV_TOO,
    AsOf,
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
from registry.overview import duplicates as duplicate_service
from registry.overview import service as overview
from registry.overview.export import to_csv, write_csv

router = new_router()


@router.get("", dependencies=[page(*ANY_PAGE)], response_class=HTMLResponse, response_model=None)
def home(request: Request, principal: ViewerDep, lang: Lang = None) -> Response:
    """The entry page: the pages this user may open."""
    return render(request, "home.html", principal=principal)


@router.get(
    "/coverage",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def coverage_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    table: Annotated[Literal["programme", "region"], Query()] = "programme",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Persons and enrolments by programme, and by programme and region, on a date."""
    day = as_of or date.today()
    k = settings.suppression_k
    if format == "csv":
        by = "programme" if table == "programme" else "programme,region"
        body = overview.coverage(session, principal, day, by, k=k)
        audit_view(request, session, principal, "coverage", {"as_of": str(day), "format": "csv"})
        return csv_response(to_csv("coverage", body), f"coverage-{table}-{day}.csv")
    by_programme = overview.coverage(session, principal, day, "programme", k=k)
    by_region = overview.coverage(session, principal, day, "programme,region", k=k)
    regions = sorted({r.region or "" for r in by_region.rows})
    pivot: dict[str, dict[str, Any]] = {}
    for row in by_region.rows:
        pivot.setdefault(row.programme or "", {})[row.region or ""] = row.persons
    audit_view(request, session, principal, "coverage", {"as_of": str(day), "format": "html"})
    return render(
        request,
        "coverage.html",
        principal=principal,
        as_of=day.isoformat(),
        by_programme=by_programme,
        regions=regions,
        pivot=pivot,
        suppressed=by_programme.suppressed or by_region.suppressed,
    )


@router.get(
    "/overlaps",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def overlaps_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """The programme-overlap matrix as a heat map, and as a table."""
    day = as_of or date.today()
    body = overview.overlaps(session, principal, day, k=settings.suppression_k)
    audit_view(request, session, principal, "overlaps", {"as_of": str(day), "format": format})
    if format == "csv":
        return csv_response(to_csv("overlaps", body), f"overlaps-{day}.csv")
    labels = LABELS[language(request)]
    return render(
        request,
        "overlaps.html",
        principal=principal,
        as_of=day.isoformat(),
        body=body,
        chart=heatmap(body.programmes, body.matrix, labels["overlaps"]),
    )


@router.get(
    "/counts",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def counts_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Persons by the number of programmes they are active in on a date, as bars."""
    day = as_of or date.today()
    body = overview.overlaps(session, principal, day, k=settings.suppression_k)
    rows = [{"programmes": n, "persons": v} for n, v in body.by_count.items()]
    audit_view(request, session, principal, "counts", {"as_of": str(day), "format": format})
    if format == "csv":
        return csv_response(write_csv(rows), f"persons-by-programmes-{day}.csv")
    labels = LABELS[language(request)]
    return render(
        request,
        "counts.html",
        principal=principal,
        as_of=day.isoformat(),
        rows=rows,
        suppressed=body.suppressed,
        chart=bar_chart(list(body.by_count.items()), labels["counts"]),
    )


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@router.get(
    "/trends",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def trends_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Distinct active persons per programme per month, as lines and as a table."""
    end = end or date.today()
    start = start or _months_back(end, 23)
    body = overview.timeseries(
        session, principal, start, end, interval="month", k=settings.suppression_k
    )
    audit_view(
        request,
        session,
        principal,
        "trends",
        {"from": str(start), "to": str(end), "format": format},
    )
    if format == "csv":
        return csv_response(to_csv("timeseries", body), f"trends-{start}-{end}.csv")
    periods = sorted({r.period_start[:7] for r in body.rows})
    programmes = sorted({r.programme for r in body.rows})
    cells = {(r.period_start[:7], r.programme): r.persons for r in body.rows}
    series: dict[str, Sequence[int | None]] = {
        p: [cells.get((m, p), 0) for m in periods] for p in programmes
    }
    labels = LABELS[language(request)]
    return render(
        request,
        "trends.html",
        principal=principal,
        start=start.isoformat(),
        end=end.isoformat(),
        periods=periods,
        programmes=programmes,
        cells=cells,
        suppressed=body.suppressed,
        chart=line_chart(periods, series, labels["trends"]),
    )


@router.get(
    "/duplicates",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def duplicates_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Double enrolments per programme and persons in exclusive programme pairs (counts)."""
    day = as_of or date.today()
    body = duplicate_service.duplicates(session, principal, day, k=settings.suppression_k)
    named = [
        p.person_id
        for persons in (body.double_enrolments.persons, body.exclusive.persons)
        for p in persons or []
    ]
    audit_view(
        request, session, principal, "duplicates", {"as_of": str(day), "format": format}, named
    )
    if format == "csv":
        return csv_response(to_csv("duplicates", body), f"duplicates-{day}.csv")
    return render(
        request,
        "duplicates.html",
        principal=principal,
        as_of=day.isoformat(),
        body=body,
        listed=len(set(named)),
    )
