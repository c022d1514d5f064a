"""What every dashboard page shares: sign-in state, rendering, refusals, audit of views.

Sign-in: the login form exchanges user name and password for the same bearer token as
``POST /api/v1/auth/token`` (same service, same throttling, same audit), kept in an HttpOnly,
``SameSite=Strict`` cookie scoped to ``/dashboard`` (``Secure`` when the request came over
https). Pages also accept an ``Authorization: Bearer`` header, so scripts can fetch the CSVs.

CSRF: no token in forms. Every POST (sign-in, sign-out) must carry an ``Origin`` (or, failing
that, a ``Referer``) whose host is this request's ``Host``; a POST naming another origin or
naming none is refused. Together with ``SameSite=Strict`` (the cookie never rides on a
cross-site request) and GET pages that change nothing, this covers login CSRF too.

Access: every route declares its roles through :func:`page` (read by the authorisation matrix
test, like ``allow()``), the services apply the same role and suppression rules as the API,
and every page that shows data writes a ``dashboard.view`` audit event (with the persons it
names, where it names any). An anonymous browser is redirected to the login form (other
clients get 401), a signed-in user without the role gets a 403 page; both are audited as
``access.refused`` like the API's refusals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.authz import Rule, write_refusal
from api.dashboard import templates
from api.dashboard.labels import LABELS, pick_language
from api.dashboard.nav import PAGES
from api.dashboard.svg import SUPPRESSED
from api.deps import SessionDep, SettingsDep, audit_context_for
from registry.access.principal import Principal
from registry.access.service import (
    load_principal,
)
from registry.access.tokens import claimed_subject, decode_token
from registry.audit.service import record_event
from registry.core.errors import Forbidden, NotAuthenticated, RegistryError

logger = logging.getLogger(__name__)

COOKIE = "registry_dashboard"
COOKIE_PATH = "/dashboard"
PREFIX = "/dashboard"


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Lang = Annotated[str | None, Query(max_length=8)]
Format = Annotated[Literal["html", "csv"], Query()]
AsOf = Annotated[date | None, Query()]
#: The pages answer HTML, or CSV with `format=csv`.
CSV_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def wants_html(request: Request) -> bool:
    """A browser navigation (it asks for HTML), as opposed to a script or API client."""
    return "text/html" in request.headers.get("accept", "").lower()


def language(request: Request) -> str:
    """The page language: `lang`, else Accept-Language, else English."""
    return pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def link(path: str, lang: str, **params: Any) -> str:
    """A dashboard URL with its query (None values left out) and the language."""
    query = {k: v for k, v in params.items() if v is not None}
    query["lang"] = lang
    return f"{path}?{urlencode(query)}"


def render(
    request: Request, name: str, status: int = 200, principal: Principal | None = None, **ctx: Any
) -> HTMLResponse:
    """A page from its template, with labels, navigation and the signed-in user."""
    lang = language(request)
    labels = LABELS[lang]
    nav = [
        (key, labels[key], link(f"{PREFIX}/{key}", lang))
        for key, roles in PAGES
        if principal is not None and principal.has_any(*roles)
    ]
    other = "da" if lang == "en" else "en"
    here = request.url.path
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    html = templates.get_template(name).render(
        t=labels,
        lang=lang,
        nav=nav,
        principal=principal,
        switch_language=link(here, other, **query),
        k=request.app.state.settings.suppression_k,
        mark=SUPPRESSED,
        shown=shown,
        link=lambda path, **p: link(path, lang, **p),
        **ctx,
    )
    return HTMLResponse(html, status_code=status)


def shown(value: Any) -> str:
    """A count as the page shows it: the suppression mark for a suppressed (None) count."""
    return SUPPRESSED if value is None else str(value)


def csv_response(text: str, filename: str) -> Response:
    """A CSV download."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def refusal_page(request: Request, exc: RegistryError) -> Response:
    """The answer to a refused request: login redirect, 401 or the 403 page."""
    if isinstance(exc, NotAuthenticated) and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = RedirectResponse(
            link(f"{PREFIX}/login", language(request), next=target), status_code=303
        )
    else:
        principal = getattr(request.state, "principal", None)
        response = render(
            request,
            "refused.html",
            status=exc.status_code,
            principal=principal,
            detail=exc.detail,
            signed_in=principal is not None,
        )
    if isinstance(exc, NotAuthenticated) and COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def error_page(request: Request, status: int, detail: str, errors: list[Any]) -> Response:
    return render(
        request,
        "error.html",
        status=status,
        principal=getattr(request.state, "principal", None),
        detail=detail,
        errors=errors,
    )


class DashboardRoute(APIRoute):
    """Answers every failure of a dashboard route as a page, and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except (NotAuthenticated, Forbidden) as exc:
                try:
                    await run_in_threadpool(write_refusal, request, exc)
                except Exception:  # the refusal stands even if the trail cannot be written
                    logger.exception("could not audit a refused dashboard request")
                response = refusal_page(request, exc)
            except RegistryError as exc:
                response = error_page(request, exc.status_code, exc.detail, exc.errors or [])
            except RequestValidationError as exc:
                errors = [
                    {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e["msg"]}
                    for e in exc.errors()
                ]
                response = error_page(request, 422, "the request is not valid", errors)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return dashboard_handler


def new_router() -> APIRouter:
    """A router for dashboard pages: under /dashboard, every failure answered as a page."""
    return APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)


def viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """The signed-in caller: the bearer header if sent, else the dashboard cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("a bearer token is required")
        via = "bearer"
    else:
        token, via = request.cookies.get(COOKIE, ""), "cookie"
        if not token:
            raise NotAuthenticated("sign in first")
    request.state.claimed_subject = claimed_subject(token.strip())
    claims = decode_token(token.strip(), settings)
    principal = load_principal(session, str(claims["sub"]), int(claims["ver"]))
    request.state.principal = principal
    request.state.dashboard_auth = via
    return principal


ViewerDep = Annotated[Principal, Depends(viewer)]


def page(*roles: str) -> Any:
    """Like ``allow()``: a route dependency admitting only signed-in callers with a role."""
    rule = Rule(frozenset(roles))

    def check_page_roles(principal: ViewerDep) -> None:
        principal.require(*rule.roles)

    check_page_roles.rule = rule  # type: ignore[attr-defined]
    return Depends(check_page_roles)


def same_origin(request: Request) -> None:
    """Refuse a POST whose Origin (or Referer) is missing or names another host."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if not claimed or claimed == "null" or urlsplit(claimed).netloc.lower() != host.lower():
        raise Forbidden("a form must be sent from this site (Origin check)")


def audit_view(
    request: Request,
    session: SessionDep,
    principal: Principal,
    view: str,
    detail: dict[str, Any],
    persons: list[str] | None = None,
) -> None:
    """Write one dashboard.view event: which page, with which parameters, naming whom."""
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    record_event(
        session,
        context,
        "dashboard.view",
        person_ids=persons or [],
        detail={"page": view, **detail},
    )
