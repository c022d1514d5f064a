"""The review queue page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.data import review_queue
from api.dashboard.nav import FEED_READERS
from api.dashboard.web import (
    CSV_TOO,
    Format,
    Lang,
    ViewerDep,
    audit_view,
    csv_response,
    new_router,
    page,
    render,
)
from api.deps import SessionDep
from registry.overview.export import write_csv

router = new_router()


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
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """The review queue's size and the age of its oldest pending item."""
    queue = review_queue(session, principal)
    audit_view(request, session, principal, "review", {"format": format})
    if format == "csv":
        rows = [{**r, "oldest_created_at": queue["oldest_created_at"]} for r in queue["by_reason"]]
        return csv_response(write_csv(rows), "review-queue.csv")
    hours = queue["oldest_age_hours"]
    age = None
    if hours is not None:
        age = (round(hours / 24, 1), "days") if hours >= 48 else (round(hours, 1), "hours")
    return render(request, "review.html", principal=principal, queue=queue, age=age)
