"""Overview: who receives what across programmes, as of a date (roles oversight, analyst)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep
from registry.overview import service

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])


@router.get("/coverage")
def read_coverage(
    session: SessionDep,
    principal: PrincipalDep,
    as_of: date | None = None,
    by: str = Query("programme", description="comma-separated: " + ", ".join(service.DIMENSIONS)),
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> dict[str, Any]:
    """Distinct persons and enrolments active on a date, by the requested dimensions."""
    return service.coverage(
        session, principal, as_of or date.today(), by, recorded_at=recorded_at, suppress=suppress
    )


@router.get("/overlaps")
def read_overlaps(
    session: SessionDep,
    principal: PrincipalDep,
    as_of: date | None = None,
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> dict[str, Any]:
    """Persons active in both of each pair of programmes, and by number of programmes."""
    return service.overlaps(
        session, principal, as_of or date.today(), recorded_at=recorded_at, suppress=suppress
    )
