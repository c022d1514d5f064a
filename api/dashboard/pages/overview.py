"""The oversight pages: coverage, overlaps, counts, trends, duplicates and their drill-down.

Codes are shown with their names (programmes from the programme table, regions from DST's
list, benefit codes from L402), numbers and dates in the page's language
(``api.dashboard.format``), and a Danish page's CSV is written for Danish Excel. Every
figure a page shows is a cell of an overview answer the API gives for the same caller (a
region filter shows the rows of the answer by the same dimensions and region), so the
disclosure control of those answers covers each page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.dashboard.format import number
from api.dashboard.labels import LABELS
from api.dashboard.nav import READERS
from api.dashboard.svg import bar_chart, heatmap, legend, line_chart
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
from api.deps import SessionDep, SettingsDep, audit_context_for
from registry.access.principal import Principal
from registry.audit.service import record_event
from registry.codelists.loader import regions as dst_regions
from registry.overview import duplicates as duplicate_service
from registry.overview import service as overview
from registry.overview.drilldown import duplicate_persons
from registry.overview.export import to_csv, write_csv
from registry.overview.schemas import Counts, CoverageRow
from registry.programmes.service import list_programmes

router = new_router()

#: Why a person-level page is opened: key → label key. The key goes to the trail as purpose.
PURPOSES = {
    "control": "ov_purpose_control",
    "case": "ov_purpose_case",
    "correction": "ov_purpose_correction",
    "supervision": "ov_purpose_supervision",
}
Purpose = Annotated[Literal["control", "case", "correction", "supervision"] | None, Query()]
Breakdown = Literal[
    "benefit_code", "sex", "age_band", "region", "programme", "target_group", "municipality"
]
BREAKDOWNS: tuple[str, ...] = (
    "benefit_code",
    "sex",
    "age_band",
    "region",
    "programme",
    "target_group",
    "municipality",
)
#: A region code as sent by the filter ("" = all regions).
RegionCode = Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z_-]{0,16}$")]


def programme_names(session: Session) -> dict[str, str]:
    """Each programme's name by its code."""
    return {p.code: p.name for p in list_programmes(session)}


def send_csv(request: Request, text: str, filename: str) -> Response:
    """A CSV download as the page's language opens it (Danish: `;` and a BOM)."""
    return csv_response(text, filename, language(request))


def audit_read(
    request: Request,
    session: Session,
    principal: Principal,
    action: str,
    detail: dict[str, Any],
    persons: Sequence[str],
    purpose: str | None,
) -> None:
    """Write a person-level read to the trail: the persons shown, and the purpose picked."""
    context = replace(
        audit_context_for(request, principal.subject, tuple(principal.roles)), purpose=purpose
    )
    record_event(session, context, action, person_ids=list(persons), detail=detail)


@dataclass(frozen=True)
class Table:
    """One coverage table as a page shows it: its rows, the total beside them, the `by` asked."""

    by: list[str]
    rows: list[CoverageRow]
    total: Counts
    total_by: list[str]
    suppressed: bool

    def key(self, row: CoverageRow) -> list[str]:
        """The row's values of the dimensions asked for (a missing one as "")."""
        return [getattr(row, d) or "" for d in self.by]


def coverage_table(
    session: Session, principal: Principal, day: date, k: int, dim: str, region: str | None
) -> Table:
    """Coverage by one dimension, for every region or one: the rows of the API's answer."""
    if region is None:
        body = overview.coverage(session, principal, day, [dim], k=k)
        return Table([dim], body.rows, body.total, [], body.suppressed)
    dims = [dim] if dim == "region" else [dim, "region"]
    body = overview.coverage(session, principal, day, dims, k=k)
    margin = overview.coverage(session, principal, day, ["region"], k=k)
    total = next(
        (
            Counts(r.persons, r.enrolments, r.suspended, r.pending)
            for r in margin.rows
            if r.region == region
        ),
        Counts(0, 0, 0, 0),
    )
    rows = [r for r in body.rows if r.region == region]
    return Table(dims, rows, total, ["region"], body.suppressed or margin.suppressed)


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
    table: Annotated[Literal["programme", "region", "breakdown"], Query()] = "programme",
    breakdown: Annotated[Breakdown, Query()] = "benefit_code",
    region: RegionCode = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Persons and enrolments by programme, by programme and region, and by a breakdown."""
    day = as_of or date.today()
    k = settings.suppression_k
    region = region or None
    detail = {"as_of": str(day), "breakdown": breakdown, "region": region, "format": format}
    if format == "csv":
        if table == "breakdown":
            dims = [breakdown] if region is None or breakdown == "region" else [breakdown, "region"]
        else:
            dims = ["programme"] if table == "programme" else ["programme", "region"]
        body = overview.coverage(session, principal, day, dims, k=k)
        audit_view(request, session, principal, "coverage", detail | {"table": table})
        name = breakdown if table == "breakdown" else table
        return send_csv(request, to_csv("coverage", body), f"coverage-{name}-{day}.csv")
    by_programme = coverage_table(session, principal, day, k, "programme", region)
    by_region = overview.coverage(session, principal, day, "programme,region", k=k)
    split = coverage_table(session, principal, day, k, breakdown, region)
    present = overview.coverage(session, principal, day, ["region"], k=k)
    choices = sorted(set(dst_regions()) | {r.region for r in present.rows if r.region})
    columns = sorted({r.region or "" for r in by_region.rows})
    pivot: dict[str, dict[str, Any]] = {}
    for row in by_region.rows:
        pivot.setdefault(row.programme or "", {})[row.region or ""] = row.persons
    audit_view(request, session, principal, "coverage", detail)
    return render(
        request,
        "coverage.html",
        principal=principal,
        as_of=day.isoformat(),
        names=programme_names(session),
        by_programme=by_programme,
        split=split,
        breakdown=breakdown,
        breakdowns=BREAKDOWNS,
        region=region,
        region_choices=choices,
        regions=columns,
        pivot=pivot,
        suppressed=by_programme.suppressed or by_region.suppressed or split.suppressed,
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
        return send_csv(request, to_csv("overlaps", body), f"overlaps-{day}.csv")
    lang = language(request)
    labels = LABELS[lang]
    chart = heatmap(
        body.programmes,
        body.matrix,
        labels["overlaps"],
        labels["ov_chart_heatmap"].format(n=len(body.programmes)),
        lambda v: number(v, lang),
    )
    return render(
        request,
        "overlaps.html",
        principal=principal,
        as_of=day.isoformat(),
        names=programme_names(session),
        body=body,
        chart=chart,
        empty=not any(body.matrix[p][p] for p in body.programmes),
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
        return send_csv(request, write_csv(rows), f"persons-by-programmes-{day}.csv")
    lang = language(request)
    labels = LABELS[lang]
    chart = bar_chart(
        list(body.by_count.items()),
        labels["counts"],
        labels["ov_chart_bars"],
        lambda v: number(v, lang),
    )
    return render(
        request,
        "counts.html",
        principal=principal,
        as_of=day.isoformat(),
        rows=rows,
        suppressed=body.suppressed,
        chart=chart,
    )


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def trend_interval(start: date, end: date) -> str:
    """Months up to 24 months, quarters up to 8 years, years beyond."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > 8 * 12:
        return "year"
    return "quarter" if months > 24 else "month"


def period_label(start: str, interval: str, lang: str) -> str:
    """A period by its start: 2024-06, 2024 Q2 (2024 K2 in Danish), 2024."""
    day = date.fromisoformat(start)
    if interval == "year":
        return str(day.year)
    if interval == "quarter":
        return f"{day.year} {'K' if lang == 'da' else 'Q'}{(day.month - 1) // 3 + 1}"
    return start[:7]


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
    """Distinct receiving persons per programme per month (quarter, year for long ranges),
    suspended and pending persons beside."""
    end = end or date.today()
    start = start or _months_back(end, 23)
    interval = trend_interval(start, end)
    body = overview.timeseries(
        session, principal, start, end, interval=interval, k=settings.suppression_k
    )
    audit_view(
        request,
        session,
        principal,
        "trends",
        {"from": str(start), "to": str(end), "interval": interval, "format": format},
    )
    if format == "csv":
        return send_csv(request, to_csv("timeseries", body), f"trends-{start}-{end}.csv")
    lang = language(request)
    labels = LABELS[lang]
    starts = sorted({r.period_start for r in body.rows})
    periods = [period_label(s, interval, lang) for s in starts]
    programmes = sorted({r.programme for r in body.rows})
    cells = {
        (period_label(r.period_start, interval, lang), r.programme): r.persons for r in body.rows
    }
    series: dict[str, Sequence[int | None]] = {
        p: [cells.get((m, p), 0) for m in periods] for p in programmes
    }
    names = programme_names(session)
    chart = line_chart(
        periods,
        series,
        labels["trends"],
        labels["ov_chart_lines"].format(n=len(periods)),
        lambda v: number(v, lang),
    )
    return render(
        request,
        "trends.html",
        principal=principal,
        start=start.isoformat(),
        end=end.isoformat(),
        interval=interval,
        periods=periods,
        programmes=programmes,
        names=names,
        cells=cells,
        beside={(period_label(r.period_start, interval, lang), r.programme): r for r in body.rows},
        suppressed=body.suppressed,
        chart=chart,
        chart_legend=legend(programmes, {p: f"{p} {names.get(p, '')}".strip() for p in programmes}),
        empty=not any(v for v in cells.values()),
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
    """Double enrolments per programme and persons in exclusive programme pairs (counts).

    The page shows counts only and names no person in the trail; the persons are in the
    drill-down (:func:`duplicate_list_page`, audited per page shown) and in the CSV (audited
    with every person it holds).
    """
    day = as_of or date.today()
    body = duplicate_service.duplicates(session, principal, day, k=settings.suppression_k)
    named = [
        p.person_id
        for persons in (body.double_enrolments.persons, body.exclusive.persons)
        for p in persons or []
    ]
    detail = {"as_of": str(day), "format": format}
    if format == "csv":
        audit_view(request, session, principal, "duplicates", detail, named)
        return send_csv(request, to_csv("duplicates", body), f"duplicates-{day}.csv")
    audit_view(request, session, principal, "duplicates", detail)
    return render(
        request,
        "duplicates.html",
        principal=principal,
        as_of=day.isoformat(),
        names=programme_names(session),
        body=body,
        may_list=body.double_enrolments.persons is not None,
    )


@router.get(
    "/duplicates/persons",
    dependencies=[page("oversight")],
    response_class=HTMLResponse,
    response_model=None,
)
def duplicate_list_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    kind: Annotated[Literal["double", "exclusive"], Query()],
    programme: Annotated[list[str], Query(max_length=2, min_length=1)],
    as_of: AsOf = None,
    purpose: Purpose = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    lang: Lang = None,
) -> Response:
    """One page of the persons behind a duplicates finding; the trail names exactly those.

    Without a purpose the page asks for one and shows (and names) nobody.
    """
    day = as_of or date.today()
    programmes = [p[:32] for p in programme]
    common: dict[str, Any] = {
        "as_of": day.isoformat(),
        "kind": kind,
        "programmes": programmes,
        "names": programme_names(session),
        "purposes": PURPOSES,
    }
    if purpose is None:
        return render(
            request,
            "duplicates_persons.html",
            principal=principal,
            listing=None,
            purpose=None,
            **common,
        )
    listing = duplicate_persons(session, principal, day, kind, programmes, page_number)
    audit_read(
        request,
        session,
        principal,
        "dashboard.view",
        {
            "page": "duplicates.persons",
            "as_of": str(day),
            "kind": kind,
            "programmes": listing.programmes,
            "page_number": listing.page,
        },
        [p.person_id for p in listing.persons],
        purpose,
    )
    return render(
        request,
        "duplicates_persons.html",
        principal=principal,
        listing=listing,
        purpose=purpose,
        **common,
    )
