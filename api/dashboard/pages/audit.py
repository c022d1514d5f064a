"""The auditor's pages: the trail filtered and paged (CSV too), who accessed a person, the chain.

Every read is itself audited as the API's are (`audit.read`, naming the persons the page or
file showed, with the filters); the chain is verified only when an auditor asks (see
`registry.audit.status`). Actors show by name (`registry.access.actors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.field_errors import FieldError, errors_by_field, field_errors
from api.dashboard.web import (
    CSV_TOO,
    PREFIX,
    Format,
    Lang,
    ViewerDep,
    csv_response,
    language,
    link,
    new_router,
    page,
    render,
    same_origin,
)
from api.deps import ReadSessionDep, SessionDep, audit_context_for
from registry.access.actors import actor_filter, actor_names
from registry.access.principal import Principal
from registry.audit.manifest import record_naming
from registry.audit.naming import person_key
from registry.audit.schemas import ListedEvent
from registry.audit.service import events_csv, list_events, who_accessed
from registry.audit.status import chain_status, verify_and_record
from registry.core.errors import InvalidInput

router = new_router()

AUDITOR = ("auditor",)
#: Events per page on screen; per CSV file (the API's cap).
PAGE_SIZE = 50
CSV_CAP = 10_000
#: Person ids shown per event on screen (the CSV has them all); the audit names those shown.
PERSONS_SHOWN = 5
#: Characters of an event's detail shown on screen.
DETAIL_SHOWN = 160
#: Actions offered in the filter's suggestions (any action may be typed).
KNOWN_ACTIONS = (
    "person.read",
    "person.history",
    "person.subject_access",
    "person.merge",
    "person.split",
    "person.rectify",
    "review.decision",
    "review.read",
    "feed.batch",
    "feed.import",
    "dashboard.view",
    "audit.read",
    "audit.verify",
    "access.refused",
    "auth.login",
    "auth.logout",
    "user.create",
    "user.disable",
    "user.enable",
    "user.password_reset",
    "client.create",
    "client.rotate_secret",
    "programme.create",
)

Text = Annotated[str | None, Query(max_length=200)]
Short = Annotated[str | None, Query(max_length=64)]
Day = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True)
class TrailFilters:
    """The trail's filters as the auditor typed them (strings, for the form and links)."""

    user: str = ""
    person_id: str = ""
    action: str = ""
    purpose: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> dict[str, str]:
        """The filters that are set, as query parameters."""
        pairs = {
            "user": self.user,
            "person_id": self.person_id,
            "action": self.action,
            "purpose": self.purpose,
            "from": self.since,
            "to": self.until,
        }
        return {k: v for k, v in pairs.items() if v}


@dataclass(frozen=True)
class ShownEvent:
    """One event as the page shows it."""

    event: ListedEvent
    actor_name: str
    persons: list[str]
    more_persons: int
    detail: str


def _day(value: str, field: str) -> date | FieldError:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return FieldError(field, "date", None, f"{field} must be a date (YYYY-MM-DD)")


def _bounds(filters: TrailFilters) -> tuple[datetime | None, datetime | None, list[FieldError]]:
    """The date range as instants (UTC days, `to` inclusive), and what is wrong with it."""
    errors: list[FieldError] = []
    since = until = None
    if filters.since:
        day = _day(filters.since, "from")
        if isinstance(day, FieldError):
            errors.append(day)
        else:
            since = datetime.combine(day, time(), UTC)
    if filters.until:
        day = _day(filters.until, "to")
        if isinstance(day, FieldError):
            errors.append(day)
        else:
            until = datetime.combine(day + timedelta(days=1), time(), UTC)
    if since and until and since >= until:
        errors.append(FieldError("to", "date_order", None, "to must not be before from"))
    return since, until, errors


def _utc(moment: datetime) -> datetime:
    """A moment in UTC, as the pages show times."""
    return moment.astimezone(UTC)


def _audit_read(
    request: Request,
    session: SessionDep,
    principal: Principal,
    persons: list[str],
    detail: dict[str, Any],
) -> None:
    """The auditor's read, audited as the API's: `audit.read` naming the persons shown."""
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    record_naming(
        session, context, "audit.read", person_ids=persons, detail={**detail, "via": "dashboard"}
    )


def _shown(event: ListedEvent, name: str) -> ShownEvent:
    detail = ", ".join(f"{k}={v}" for k, v in sorted(event.detail.items()))
    if len(detail) > DETAIL_SHOWN:
        detail = detail[: DETAIL_SHOWN - 1] + "…"
    return ShownEvent(
        event=event,
        actor_name=name,
        persons=event.person_ids[:PERSONS_SHOWN],
        more_persons=max(0, len(event.person_ids) - PERSONS_SHOWN),
        detail=detail,
    )


@router.get(
    "/audit",
    dependencies=[page(*AUDITOR)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def trail_page(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: ViewerDep,
    user: Text = None,
    person_id: Short = None,
    action: Short = None,
    purpose: Text = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """The trail, newest first, filtered by user, person, action, purpose and dates; paged."""
    filters = TrailFilters(
        *(v.strip() if v else "" for v in (user, person_id, action, purpose, since, until))
    )
    start, end, errors = _bounds(filters)
    actor = None
    if filters.person_id and person_key(filters.person_id) is None:
        errors.append(FieldError("person_id", "person_id", None, "not a person id"))
    if filters.user:
        try:
            actor = actor_filter(reads, filters.user)
        except InvalidInput as exc:
            errors.extend(field_errors(exc, "user"))
    if errors:
        return _trail(request, principal, filters, errors=errors, status=422)
    as_csv = format == "csv"
    listing = list_events(
        reads,
        actor=actor,
        person_id=filters.person_id or None,
        action=filters.action or None,
        purpose=filters.purpose or None,
        since=start,
        until=end,
        cursor=cursor,
        limit=CSV_CAP if as_csv else PAGE_SIZE,
        page_cap=CSV_CAP,
    )
    names = actor_names(reads, {e.actor for e in listing.events})
    shown = [_shown(e, names.label(e.actor)) for e in listing.events]
    if as_csv:
        named = [p for e in listing.events for p in e.person_ids]
    else:
        named = [p for s in shown for p in s.persons]
    _audit_read(
        request,
        session,
        principal,
        [*named, *([filters.person_id] if filters.person_id else [])],
        {
            "view": "events",
            "format": format,
            "events": len(listing.events),
            "filters": filters.query(),
        },
    )
    if as_csv:
        danish = language(request) == "da"
        text = events_csv(
            listing.events,
            names=names.names,
            delimiter=";" if danish else ",",
            bom=danish,
        )
        response = csv_response(text, "audit-events.csv")
        if listing.next_cursor is not None:
            response.headers["X-Next-Cursor"] = str(listing.next_cursor)
        return response
    return _trail(
        request, principal, filters, events=shown, next_cursor=listing.next_cursor, cursor=cursor
    )


def _trail(
    request: Request,
    principal: Principal,
    filters: TrailFilters,
    *,
    events: list[ShownEvent] | None = None,
    next_cursor: int | None = None,
    cursor: int | None = None,
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "audit.html",
        status=status,
        principal=principal,
        section="trail",
        filters=filters,
        query=filters.query(),
        events=events or [],
        next_cursor=next_cursor,
        first_page=cursor is None,
        errors=errors or [],
        invalid=errors_by_field(errors or []),
        known_actions=KNOWN_ACTIONS,
    )


@router.get(
    "/audit/accesses",
    dependencies=[page(*AUDITOR)],
    response_class=HTMLResponse,
    response_model=None,
)
def accesses_page(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: ViewerDep,
    person_id: Short = None,
    lang: Lang = None,
) -> Response:
    """Who accessed a person: per actor and action, how often, first and last time, why."""
    wanted = (person_id or "").strip()
    errors: list[FieldError] = []
    accesses = []
    if wanted and person_key(wanted) is None:
        errors.append(FieldError("person_id", "person_id", None, "not a person id"))
    elif wanted:
        accesses = who_accessed(reads, wanted)
        _audit_read(request, session, principal, [wanted], {"view": "accesses"})
    names = actor_names(reads, {a.actor for a in accesses})
    return render(
        request,
        "audit_accesses.html",
        status=422 if errors else 200,
        principal=principal,
        section="accesses",
        utc=_utc,
        person_id=wanted,
        accesses=[(a, names.label(a.actor)) for a in accesses],
        errors=errors,
        invalid=errors_by_field(errors),
    )


@router.get(
    "/audit/chain",
    dependencies=[page(*AUDITOR)],
    response_class=HTMLResponse,
    response_model=None,
)
def chain_page(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: ViewerDep,
    busy: Annotated[bool, Query()] = False,
    lang: Lang = None,
) -> Response:
    """The last verification of the chain (and a button to run one), the last kept anchor."""
    status = chain_status(reads)
    names = actor_names(
        reads, {status.verification.actor} if status.verification is not None else set()
    )
    _audit_read(request, session, principal, [], {"view": "chain"})
    return render(
        request,
        "audit_chain.html",
        principal=principal,
        section="chain",
        chain=status,
        utc=_utc,
        verified_by=names.label(status.verification.actor) if status.verification else "",
        busy=busy,
    )


@router.post(
    "/audit/verify",
    dependencies=[page(*AUDITOR)],
    response_class=RedirectResponse,
    response_model=None,
)
def verify_now(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    principal: ViewerDep,
    lang: Lang = None,
) -> Response:
    """Verify the whole chain now (one at a time); the outcome goes to the trail."""
    same_origin(request)
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    outcome = verify_and_record(session, reads, context)
    target = link(f"{PREFIX}/audit/chain", language(request), busy="1" if outcome is None else None)
    return RedirectResponse(target, status_code=303)
