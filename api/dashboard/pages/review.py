"""The review workbench: the queue (filtered by reason, programme and age), an item, a decision.

Oversight sees the queue's size only (an aggregate); stewards see the items whose every
person is in their scope (registry.matching.review_scope, the API's rule), open one to see
both records side by side with each field's agreement and weight and each person's other
records, and decide it with a note (POST, Origin-checked) through
registry.matching.stewardship.decide_review, then land on the next item of the same filter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.data import review_queue
from api.dashboard.nav import FEED_READERS
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
from api.deps import SessionDep, audit_context_for
from registry.access.principal import Principal
from registry.audit.service import AuditContext, record_event
from registry.core.errors import InvalidInput
from registry.matching.review_queue import (
    REVIEW_REASONS,
    check_filter,
    item_records,
    list_reviews,
    next_review_id,
    persons_shown,
    records_shown,
    review_item,
)
from registry.matching.schemas import ReviewFilter, ReviewReason, ReviewView
from registry.matching.stewardship import NOTE_MAX, decide_review
from registry.overview.export import write_csv
from registry.programmes.service import list_programmes

router = new_router()

STEWARD = "steward"


#: Items listed per page of the queue.
PAGE_SIZE = 50
#: The purpose a steward's reads of the queue are audited with (the work itself).
PURPOSE = "linkage review"
#: The access keys of the item page (documented on it).
KEYS = {"m": "M", "n": "N", "j": "J"}

#: Filters as the GET form sends them: an empty field means "any".
ReasonQuery = Annotated[str | None, Query(max_length=32)]
ProgrammeQuery = Annotated[str | None, Query(max_length=32)]
AgeQuery = Annotated[str | None, Query(max_length=8)]
Outcome = Annotated[Literal["match", "non_match"] | None, Query()]


def review_filter(
    reason: str | None, programme: str | None, min_age_days: str | None
) -> ReviewFilter:
    """The pending queue's filter from the form's fields; InvalidInput naming a bad field."""
    reason = reason or None
    if reason is not None and reason not in REVIEW_REASONS:
        raise InvalidInput(f"reason must be one of: {', '.join(REVIEW_REASONS)}")
    days = (min_age_days or "").strip() or "0"
    if not (days.isascii() and days.isdigit()):
        raise InvalidInput("min_age_days must be a whole number of days")
    return check_filter(
        ReviewFilter("pending", cast(ReviewReason | None, reason), programme or None, int(days))
    )


def _filter_query(filters: ReviewFilter) -> dict[str, Any]:
    """The filter as link parameters (left out where it means "any")."""
    return {
        "reason": filters.reason,
        "programme": filters.programme,
        "min_age_days": filters.min_age_days or None,
    }


def _audit(request: Request, principal: Principal) -> AuditContext:
    """The request's audit context; a steward's read states the work as its purpose."""
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    return replace(context, purpose=context.purpose or PURPOSE)


def _in_units(hours: float) -> tuple[float, str]:
    """A wait as the page shows it: days from two days on, hours before."""
    return (round(hours / 24, 1), "days") if hours >= 48 else (round(hours, 1), "hours")


def _age(created_at: str, now: datetime) -> tuple[float, str]:
    """How long an item has waited."""
    return _in_units((now - datetime.fromisoformat(created_at)).total_seconds() / 3600)


def _number(lang: str) -> Any:
    """A number as the page's language writes it (a decimal comma in Danish), sign optional."""

    def number(value: float | None, digits: int = 2, sign: bool = False) -> str:
        if value is None:
            return "–"
        text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
        text = text.replace("-", "−")
        return text.replace(".", ",") if lang == "da" else text

    return number


@router.get(
    "/review",
    dependencies=[page(*FEED_READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def review_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    reason: ReasonQuery = None,
    programme: ProgrammeQuery = None,
    min_age_days: AgeQuery = None,
    cursor: Annotated[int, Query(ge=0)] = 0,
    decided: Annotated[int | None, Query(ge=1)] = None,
    outcome: Outcome = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """The queue's size and oldest item; for stewards, the filtered items to work."""
    queue = review_queue(session, principal)
    if format == "csv":
        _view(request, session, principal, "review", {"format": format})
        rows = [
            {"reason": r.reason, "pending": r.pending, "oldest_created_at": queue.oldest_created_at}
            for r in queue.by_reason
        ]
        return csv_response(write_csv(rows), "review-queue.csv")
    hours = queue.oldest_age_hours
    age = None if hours is None else _in_units(hours)
    filters = review_filter(reason, programme, min_age_days)
    items: list[ReviewView] = []
    more = None
    if principal.has_any(STEWARD):
        listed = list_reviews(session, principal, filters, limit=PAGE_SIZE, after=cursor)
        items, more = listed.items, listed.next_cursor
    _view(
        request,
        session,
        principal,
        "review",
        {"format": format, **_filter_query(filters), "cursor": cursor},
        items,
    )
    now = datetime.now(UTC)
    return render(
        request,
        "review.html",
        principal=principal,
        queue=queue,
        age=age,
        steward=principal.has_any(STEWARD),
        filters=filters,
        filter_query=_filter_query(filters),
        reasons=REVIEW_REASONS,
        programmes=[p.code for p in list_programmes(session)],
        items=items,
        ages={item.id: _age(item.created_at, now) for item in items},
        more=more,
        decided=decided if outcome else None,
        outcome=outcome,
        num=_number(language(request)),
    )


@router.get(
    "/review/{review_id}",
    dependencies=[page(STEWARD, scope="region")],
    response_class=HTMLResponse,
    response_model=None,
)
def review_item_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    review_id: int,
    reason: ReasonQuery = None,
    programme: ProgrammeQuery = None,
    min_age_days: AgeQuery = None,
    decided: Annotated[int | None, Query(ge=1)] = None,
    outcome: Outcome = None,
    lang: Lang = None,
) -> Response:
    """One item: both records side by side, each person's other records, the decision form."""
    filters = review_filter(reason, programme, min_age_days)
    found = review_item(session, principal, review_id, filters)
    record_event(
        session,
        _audit(request, principal),
        "dashboard.view",
        person_ids=persons_shown([found.item]),
        record_ids=item_records(found),
        detail={"page": "review_item", "review_id": review_id},
    )
    return render(
        request,
        "review_item.html",
        principal=principal,
        found=found,
        item=found.item,
        age=_age(found.item.created_at, datetime.now(UTC)),
        filter_query=_filter_query(filters),
        note_max=NOTE_MAX,
        keys=KEYS,
        decided=decided if outcome else None,
        outcome=outcome,
        num=_number(language(request)),
    )


@router.post(
    "/review/{review_id}/decision",
    dependencies=[page(STEWARD, scope="region")],
    response_class=HTMLResponse,
    response_model=None,
)
def review_decision(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    review_id: int,
    decision: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    programme: Annotated[str, Form(max_length=32)] = "",
    min_age_days: Annotated[str, Form(max_length=8)] = "",
    lang: Lang = None,
) -> Response:
    """Decide an item (match / non-match, with a note), then go to the filter's next item.

    The decision and note are checked by decide_review after the item is found in the
    caller's scope, so an item outside it answers 404 whatever the form holds.
    """
    same_origin(request)
    filters = review_filter(reason, programme, min_age_days)
    decide_review(
        session,
        principal,
        review_id,
        decision=decision,
        note=note,
        audit=_audit(request, principal),
    )
    following = next_review_id(session, principal, review_id, filters)
    query = {**_filter_query(filters), "decided": review_id, "outcome": decision}
    path = f"{PREFIX}/review/{following}" if following is not None else f"{PREFIX}/review"
    return RedirectResponse(link(path, language(request), **query), status_code=303)


def _view(
    request: Request,
    session: SessionDep,
    principal: Principal,
    view: str,
    detail: dict[str, Any],
    items: list[ReviewView] | None = None,
) -> None:
    """One dashboard.view event naming the persons and records of the items listed."""
    shown = items or []
    context = (
        _audit(request, principal)
        if shown
        else audit_context_for(request, principal.subject, tuple(principal.roles))
    )
    record_event(
        session,
        context,
        "dashboard.view",
        person_ids=persons_shown(shown),
        record_ids=records_shown(shown),
        detail={"page": view, **detail},
    )
