"""The money and movement pages: spending, inflow/outflow, durations, full-year persons.

Every figure is a cell of the API's answer for the same caller and parameters
(`/api/v1/overview/spending`, `/flows`, `/durations`, `/full-year`), so their disclosure
control covers the pages: analysts see suppressed cells as a mark.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.nav import READERS
from api.dashboard.pages.overview import period_label, programme_names, send_csv
from api.dashboard.web import (
    CSV_TOO,
    Format,
    Lang,
    ViewerDep,
    audit_view,
    language,
    new_router,
    render,
)
from api.dashboard.web import page as page_rule
from api.deps import SessionDep, SettingsDep
from registry.overview import durations as duration_service
from registry.overview import fullyear as full_year_service
from registry.overview import movement as movement_service
from registry.overview import spending as spending_service
from registry.overview.money_export import money_csv
from registry.overview.schemas import Durations, Flows, FullYear

router = new_router()

Interval = Annotated[Literal["month", "quarter", "year"], Query()]
#: The breakdowns each page offers (the API's `by`).
SPENDING_BY = (
    "programme",
    "programme,region",
    "programme,municipality",
    "programme,benefit_code",
    "programme,target_group",
    "region",
    "municipality",
    "target_group",
)
MOVEMENT_BY = (
    "programme",
    "programme,region",
    "programme,age_band",
    "programme,target_group",
    "programme,municipality",
)
SpendingBy = Annotated[
    Literal[
        "programme",
        "programme,region",
        "programme,municipality",
        "programme,benefit_code",
        "programme,target_group",
        "region",
        "municipality",
        "target_group",
    ],
    Query(),
]
MovementBy = Annotated[
    Literal[
        "programme",
        "programme,region",
        "programme,age_band",
        "programme,target_group",
        "programme,municipality",
    ],
    Query(),
]
Table = Annotated[Literal["flows", "durations", "full-year"], Query()]


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    """The range asked for; by default the last twelve months to today."""
    end = end or date.today()
    index = end.year * 12 + end.month - 1 - 11
    return start or date(index // 12, index % 12 + 1, 1), end


def _cells(rows: list[Any], by: list[str]) -> list[tuple[Any, ...]]:
    """The distinct cells of the rows, in a stable order."""
    found = {tuple(getattr(r, d) for d in by) for r in rows}
    return sorted(found, key=lambda c: [str(v or "") for v in c])


@router.get(
    "/spending",
    dependencies=[page_rule(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def spending_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    interval: Interval = "month",
    by: SpendingBy = "programme",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Amounts paid per period by the breakdown picked; CSV with format=csv."""
    start, end = _range(start, end)
    body = spending_service.spending(
        session, principal, start, end, interval=interval, by=by, k=settings.suppression_k
    )
    audit_view(
        request,
        session,
        principal,
        "spending",
        {"from": body.start, "to": body.end, "interval": interval, "by": by, "format": format},
    )
    if format == "csv":
        return send_csv(request, money_csv(body), f"spending-{body.start}-{body.end}.csv")
    lang = language(request)
    dims = body.by
    periods = [(t.period_start, period_label(t.period_start, interval, lang)) for t in body.totals]
    values = {(r.period_start, tuple(getattr(r, d) for d in dims)): r.amount for r in body.rows}
    return render(
        request,
        "spending.html",
        principal=principal,
        start=body.start,
        end=body.end,
        interval=interval,
        by=by,
        options=SPENDING_BY,
        dims=dims,
        periods=periods,
        cells=_cells(body.rows, dims),
        values=values,
        totals={t.period_start: t.amount for t in body.totals},
        left_out=body.left_out,
        names=programme_names(session),
        suppressed=body.suppressed,
    )


@router.get(
    "/movement",
    dependencies=[page_rule(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def movement_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    interval: Interval = "month",
    by: MovementBy = "programme",
    table: Table = "flows",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Inflow and outflow, durations and full-year persons over a range; CSV per table."""
    start, end = _range(start, end)
    k = settings.suppression_k
    flows = movement_service.flows(session, principal, start, end, interval, by=by, k=k)
    durations = duration_service.durations(session, principal, start, end, by=by, k=k)
    money_by = by if "age_band" not in by else "programme"
    full_year = full_year_service.full_year(session, principal, start, end, by=money_by, k=k)
    audit_view(
        request,
        session,
        principal,
        "movement",
        {"from": flows.start, "to": flows.end, "interval": interval, "by": by, "format": format},
    )
    if format == "csv":
        chosen: Flows | Durations | FullYear = flows
        if table == "durations":
            chosen = durations
        elif table == "full-year":
            chosen = full_year
        return send_csv(request, money_csv(chosen), f"{table}-{flows.start}-{flows.end}.csv")
    lang = language(request)
    dims = flows.by
    periods = [(t.period_start, period_label(t.period_start, interval, lang)) for t in flows.totals]
    return render(
        request,
        "movement.html",
        principal=principal,
        start=flows.start,
        end=flows.end,
        interval=interval,
        by=by,
        options=MOVEMENT_BY,
        dims=dims,
        periods=periods,
        flow_rows=flows.rows,
        flow_totals=flows.totals,
        durations=durations,
        full_year=full_year,
        full_year_dims=full_year.by,
        names=programme_names(session),
        suppressed=flows.suppressed or durations.suppressed or full_year.suppressed,
    )
