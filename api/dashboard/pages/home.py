"""The home page: the pages the caller may open, and the headline figures of the caller's work.

Every signed-in person (any role but a feed) has a home. Each figure has its readers
(``registry.overview.headline``); the page asks for the figures the caller's roles may read:
persons (oversight, analyst; hidden from an analyst when small), pending review items and
the oldest one's age (oversight: the whole queue; steward: the items the steward may work),
each programme's last batch (oversight, steward, admin), the trail's newest link (oversight,
auditor, admin).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.authz import ANY_PERSON_ROLE
from api.dashboard.data import review_queue
from api.dashboard.nav import FEED_READERS
from api.dashboard.web import Lang, ViewerDep, audit_view, new_router, page, render
from api.deps import SessionDep, SettingsDep
from registry.overview import headline

router = new_router()


@router.get(
    "", dependencies=[page(*ANY_PERSON_ROLE)], response_class=HTMLResponse, response_model=None
)
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    lang: Lang = None,
) -> Response:
    """The entry page: the caller's pages and headline figures."""
    figures: dict[str, Any] = {}
    if principal.has_any(*headline.PERSON_READERS):
        figures["persons"] = headline.person_count(session, principal, settings.suppression_k)
    if principal.has_any(*FEED_READERS):
        queue = review_queue(session, principal)
        hours = queue.oldest_age_hours
        figures["queue"] = queue
        figures["age"] = (
            None
            if hours is None
            else ((round(hours / 24, 1), "days") if hours >= 48 else (round(hours, 1), "hours"))
        )
    if principal.has_any(*headline.BATCH_READERS):
        figures["batches"] = headline.last_batches(session, principal)
    if principal.has_any(*headline.CHAIN_READERS):
        figures["chain"] = headline.chain_head(session, principal)
    audit_view(request, session, principal, "home", {"figures": sorted(figures)})
    return render(request, "home.html", principal=principal, **figures)
