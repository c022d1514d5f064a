"""The audit trail for auditors: filtered listing (JSON or CSV), who accessed a person, verify.

These reads go through ``ReadSessionDep``: the read replica while it is fresh (issue 8), so a
listing or a verification may miss the last ``REGISTRY_REPLICA_MAX_LAG_SECONDS`` of events.
An auditor's read of the trail is itself audited (``audit.read``, written on the primary
through ``SessionDep``), naming every person the answer named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from api.authz import allow
from api.deps import AuditDep, ReadSessionDep, SessionDep
from registry.access.actors import actor_filter
from registry.audit.manifest import record_naming, verify_trail
from registry.audit.schemas import EventPage, PersonAccesses, TrailCheck
from registry.audit.service import events_csv, list_events, who_accessed

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

#: A CSV export may take this many events per request (JSON pages stay at 500).
CSV_PAGE_CAP = 10_000


@router.get(
    "/events",
    dependencies=[allow("auditor")],
    response_model=EventPage,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV export"}},
)
def get_events(
    session: SessionDep,
    reads: ReadSessionDep,
    audit: AuditDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    user: Annotated[str | None, Query(max_length=200)] = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int | None, Query(ge=1, le=CSV_PAGE_CAP)] = None,
    accept: Annotated[str | None, Header()] = None,
) -> EventPage | Response:
    """Events newest first; filter by actor, person, action, purpose and time; page on `cursor`.

    `user` names the actor by user name (or feed client id); `purpose` matches a stated
    purpose containing it, ignoring case.

    With `Accept: text/csv` the same page comes as CSV (up to 10,000 events, default all of
    them up to that cap); `X-Next-Cursor` then continues the export.
    """
    as_csv = bool(accept) and "text/csv" in str(accept)
    if user:
        actor = actor_filter(reads, user, actor)
    page = list_events(
        reads,
        actor=actor,
        person_id=person_id,
        action=action,
        purpose=purpose,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit or (CSV_PAGE_CAP if as_csv else 100),
        page_cap=CSV_PAGE_CAP if as_csv else 500,
    )
    filters = {
        "actor": actor,
        "user": user,
        "person_id": person_id,
        "action": action,
        "purpose": purpose,
        "from": since,
        "to": until,
    }
    record_naming(
        session,
        audit,
        "audit.read",
        person_ids=[p for event in page.events for p in event.person_ids],
        detail={
            "view": "events",
            "format": "csv" if as_csv else "json",
            "events": len(page.events),
            "filters": {k: str(v) for k, v in filters.items() if v is not None},
        },
    )
    if not as_csv:
        return page
    headers = {"Content-Disposition": 'attachment; filename="audit-events.csv"'}
    if page.next_cursor is not None:
        headers["X-Next-Cursor"] = str(page.next_cursor)
    return Response(events_csv(page.events), media_type="text/csv", headers=headers)


@router.get(
    "/persons/{person_id}/accesses",
    dependencies=[allow("auditor")],
    response_model=PersonAccesses,
)
def get_person_accesses(
    session: SessionDep,
    reads: ReadSessionDep,
    audit: AuditDep,
    person_id: Annotated[str, Path(max_length=64)],
) -> PersonAccesses:
    """Who accessed a person: per actor and action, how often, first and last time, purposes."""
    accesses = who_accessed(reads, person_id)
    record_naming(session, audit, "audit.read", person_ids=[person_id], detail={"view": "accesses"})
    return PersonAccesses(person_id, accesses)


@router.get("/verify", dependencies=[allow("auditor")], response_model=TrailCheck)
def get_verify(session: ReadSessionDep) -> JSONResponse:
    """Recompute the hash chain, then every manifest it binds; name the first broken event.

    Fields that do not apply to the outcome (``first_broken`` of a sound chain, ``head`` of a
    broken one …) are left out of the answer, not sent as null.
    """
    return JSONResponse(verify_trail(session).to_json())
