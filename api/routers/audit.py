"""The audit trail for auditors: filtered listing and chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep
from registry.audit.service import list_events, verify_chain

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/events")
def get_events(
    session: SessionDep,
    principal: PrincipalDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Events newest first; filter by actor, person, action and time; page with `cursor`."""
    principal.require("auditor")
    return list_events(
        session,
        actor=actor,
        person_id=person_id,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )


@router.get("/verify")
def get_verify(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """Recompute the hash chain; name the first broken event."""
    principal.require("auditor")
    return verify_chain(session)
