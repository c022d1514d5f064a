"""Money and movement: spending, inflow/outflow, durations, full-year persons.

The same readers and rules as the rest of the overview (oversight, analyst; analysts get
suppressed answers). JSON, or CSV with `format=csv` or `Accept: text/csv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api.authz import allow
from api.deps import PrincipalDep, ReadSessionDep, SettingsDep
from registry.overview import durations as duration_service
from registry.overview import fullyear as full_year_service
from registry.overview import movement as movement_service
from registry.overview import spending as spending_service
from registry.overview.money_export import money_csv, money_json
from registry.overview.periods import MONEY_DIMENSIONS, MOVEMENT_DIMENSIONS
from registry.overview.schemas import Durations, Flows, FullYear, MoneyAnswer, Spending

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])

READERS = allow("oversight", "analyst")
CSV_TOO: dict[int | str, dict[str, object]] = {200: {"content": {"text/csv": {}}}}

From = Annotated[date, Query(alias="from", description="first day (widened to its period)")]
To = Annotated[date, Query(alias="to", description="last day (widened to its period)")]
Interval = Annotated[Literal["month", "quarter", "year"], Query()]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the answer as one table")]
RecordedAt = Annotated[datetime | None, Query(description="as recorded at (system time)")]


MoneyBy = Annotated[
    str, Query(description="comma-separated, at most 3: " + ", ".join(MONEY_DIMENSIONS))
]
MovementBy = Annotated[
    str, Query(description="comma-separated, at most 3: " + ", ".join(MOVEMENT_DIMENSIONS))
]


@dataclass(frozen=True)
class MoneyQuery:
    """What every money answer is asked with: the range, system time, suppression, format."""

    start: date
    end: date
    recorded_at: datetime | None
    suppress: bool
    format: str
    k: int


def money_query(
    settings: SettingsDep,
    start: From,
    end: To,
    recorded_at: RecordedAt = None,
    suppress: bool = False,
    format: Format = "json",
) -> MoneyQuery:
    """The shared query parameters, with k from the settings."""
    return MoneyQuery(start, end, recorded_at, suppress, format, settings.suppression_k)


MoneyQueryDep = Annotated[MoneyQuery, Depends(money_query)]


def _answer(request: Request, kind: str, body: MoneyAnswer, format: str) -> Response:
    """The answer as JSON, or as CSV when asked for."""
    if format == "csv" or "text/csv" in request.headers.get("accept", "").lower():
        return Response(
            money_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
        )
    return JSONResponse(money_json(body))


@router.get("/spending", dependencies=[READERS], response_model=Spending, responses=CSV_TOO)
def read_spending(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    query: MoneyQueryDep,
    interval: Interval = "month",
    by: MoneyBy = "programme",
) -> Response:
    """Amounts paid to receiving episodes per month, quarter or year, by dimensions."""
    body = spending_service.spending(
        reads,
        principal,
        query.start,
        query.end,
        interval=interval,
        by=by,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return _answer(request, "spending", body, query.format)


@router.get("/flows", dependencies=[READERS], response_model=Flows, responses=CSV_TOO)
def read_flows(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    query: MoneyQueryDep,
    interval: Interval = "month",
    by: MovementBy = "programme",
) -> Response:
    """Receiving spells started (inflow) and ended (outflow) per period, by dimensions."""
    body = movement_service.flows(
        reads,
        principal,
        query.start,
        query.end,
        interval=interval,
        by=by,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return _answer(request, "flows", body, query.format)


@router.get("/durations", dependencies=[READERS], response_model=Durations, responses=CSV_TOO)
def read_durations(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    query: MoneyQueryDep,
    by: MovementBy = "programme",
) -> Response:
    """Durations of the spells started in the range, observed on its last day (censored)."""
    body = duration_service.durations(
        reads,
        principal,
        query.start,
        query.end,
        by=by,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return _answer(request, "durations", body, query.format)


@router.get("/full-year", dependencies=[READERS], response_model=FullYear, responses=CSV_TOO)
def read_full_year(
    request: Request,
    reads: ReadSessionDep,
    principal: PrincipalDep,
    query: MoneyQueryDep,
    by: MoneyBy = "programme",
) -> Response:
    """Full-year persons (receiving days / days in the year) per calendar year."""
    body = full_year_service.full_year(
        reads,
        principal,
        query.start,
        query.end,
        by=by,
        recorded_at=query.recorded_at,
        suppress=query.suppress,
        k=query.k,
    )
    return _answer(request, "full-year", body, query.format)
