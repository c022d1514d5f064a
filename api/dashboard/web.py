"""What every dashboard page shares: sign-in state, rendering, refusals, audit of views.

Sign-in: the login form checks user name and password with the API's service (same
throttling, same audit) and starts a dashboard session (``registry.access.sessions``): a
token of the dashboard's own audience, kept in an HttpOnly, ``SameSite=Strict`` cookie scoped
to ``/dashboard`` (``Secure`` when the request came over https). A page view late in the
token's life renews the cookie, up to the session's absolute limit; signing out ends that
session only. Pages also accept an API ``Authorization: Bearer`` header (scripts, CSVs).

CSRF: no token in forms. Every POST (sign-in, sign-out) must carry an ``Origin`` (or, failing
that, a ``Referer``) whose host is this request's ``Host``; a POST naming another origin or
naming none is refused. Together with ``SameSite=Strict`` (the cookie never rides on a
cross-site request) and GET pages that change nothing, this covers login CSRF too.

Access: every route declares its roles through :func:`page` (read by the authorisation matrix
test, like ``allow()``), the services apply the same role and suppression rules as the API,
and every page that shows data writes a ``dashboard.view`` audit event (with the persons it
names, where it names any). An anonymous browser is redirected to the login form (other
clients get 401), a signed-in user without the role gets a 403 page; both are audited as
``access.refused`` like the API's refusals. Every other failure of a dashboard path (bad
input, unknown page, wrong method, too many requests, a fault) is a page in the page's
language with a way back, never the API's JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Scope

from api.authz import Rule, public, write_refusal
from api.authz import Scope as AccessScope
from api.dashboard import templates
from api.dashboard.clock import local_time, session_notice
from api.dashboard.format import excel_csv
from api.dashboard.labels import LABELS, pick_language
from api.dashboard.nav import PAGES
from api.dashboard.problems import Problem, field_problems, status_key
from api.dashboard.svg import SUPPRESSED
from api.deps import SessionDep, SettingsDep, audit_context_for
from registry.access.principal import Principal
from registry.access.service import (
    load_principal,
)
from registry.access.sessions import DashboardSession, IssuedSession, read_session, renew_session
from registry.access.tokens import claimed_subject, decode_token
from registry.audit.service import record_event
from registry.core.errors import Forbidden, NotAuthenticated, NotFound, RegistryError

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


def current_page(path: str) -> str | None:
    """The navigation entry a path belongs to (its first segment under /dashboard)."""
    rest = path[len(PREFIX) :].strip("/") if path.startswith(PREFIX) else ""
    first = rest.split("/", 1)[0]
    return first if any(key == first for key, _ in PAGES) else None


def render(
    request: Request, name: str, status: int = 200, principal: Principal | None = None, **ctx: Any
) -> HTMLResponse:
    """A page from its template, in the page frame: navigation, the user, the session's end."""
    lang = language(request)
    labels = LABELS[lang]
    here = request.url.path
    current = current_page(here)
    nav = [
        (key, labels[key], link(f"{PREFIX}/{key}", lang))
        for key, roles in PAGES
        if principal is not None and principal.has_any(*roles)
    ]
    other = "da" if lang == "en" else "en"
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    dashboard: DashboardSession | None = getattr(request.state, "dashboard_session", None)
    notice = (
        session_notice(dashboard.expires, dashboard.final, int(time.time()))
        if dashboard is not None and principal is not None
        else None
    )
    roles = [labels.get(f"role_{r}", r) for r in sorted(principal.roles)] if principal else []
    html = templates.get_template(name).render(
        t=labels,
        lang=lang,
        other_lang=other,
        nav=nav,
        current=current,
        principal=principal,
        viewer_roles=roles,
        session=notice,
        switch_language=link(here, other, **query),
        k=request.app.state.settings.suppression_k,
        mark=SUPPRESSED,
        shown=shown,
        local=local_time,
        link=lambda path, **p: link(path, lang, **p),
        **ctx,
    )
    return HTMLResponse(html, status_code=status)


def shown(value: Any) -> str:
    """A count as the page shows it: the suppression mark for a suppressed (None) count."""
    return SUPPRESSED if value is None else str(value)


def csv_response(text: str, filename: str, lang: str = "en") -> Response:
    """A CSV download; for a Danish page as Danish Excel opens it (`;`, UTF-8 BOM)."""
    return Response(
        excel_csv(text, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def refusal_page(request: Request, exc: RegistryError) -> Response:
    """The answer to a refused request: login redirect, 401 or the 403 page."""
    if isinstance(exc, NotAuthenticated) and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        ended = "ended" if COOKIE in request.cookies else None
        response: Response = RedirectResponse(
            link(f"{PREFIX}/login", language(request), next=target, session=ended),
            status_code=303,
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


def error_page(
    request: Request,
    status: int,
    detail: str | None = None,
    problems: Sequence[Problem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A failure as a page in the page's language: what happened, the fields, a way back.

    `detail` is the service's own sentence (English): shown as such, marked as English.
    """
    response = render(
        request,
        "error.html",
        status=status,
        principal=getattr(request.state, "principal", None),
        status_key=status_key(status),
        detail=detail,
        problems=list(problems),
        retry_after=(headers or {}).get("Retry-After"),
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _registry_problems(exc: RegistryError, labels: Mapping[str, str]) -> list[Problem]:
    """A domain error's field list (field and rule), the field named in the page's words."""
    return [
        Problem(
            field=labels.get(f"field_{e.get('field')}", str(e.get("field", ""))),
            rule=str(e.get("message", "")),
        )
        for e in exc.errors or []
        if isinstance(e, dict)
    ]


async def _answer_failure(request: Request, exc: Exception) -> Response:
    """The page for whatever a dashboard route raised."""
    labels = LABELS[language(request)]
    if isinstance(exc, NotAuthenticated | Forbidden):
        try:
            await run_in_threadpool(write_refusal, request, exc)
        except Exception:  # the refusal stands even if the trail cannot be written
            logger.exception("could not audit a refused dashboard request")
        return refusal_page(request, exc)
    if isinstance(exc, RegistryError):
        if exc.status_code >= 500:
            logger.error("dashboard request failed: %s", exc.detail)
            return error_page(request, exc.status_code)
        return error_page(request, exc.status_code, exc.detail, _registry_problems(exc, labels))
    if isinstance(exc, RequestValidationError):
        return error_page(request, 422, None, field_problems(exc.errors(), labels))
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code, None, (), exc.headers)
    logger.exception("dashboard request failed", exc_info=exc)
    return error_page(request, 500)


def secure(request: Request, response: Response) -> Response:
    """Add the security headers, and the renewed session cookie if the request earned one."""
    issued: IssuedSession | None = getattr(request.state, "renewed", None)
    if issued is not None:
        set_session_cookie(request, response, issued)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def set_session_cookie(request: Request, response: Response, issued: IssuedSession) -> None:
    """Keep a session token in the dashboard's cookie: HttpOnly, strict, for /dashboard only."""
    response.set_cookie(
        COOKIE,
        issued.token,
        max_age=issued.max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


class DashboardRoute(APIRoute):
    """Answers every failure of a dashboard route as a page, and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:  # every failure is a page; faults are logged
                response = await _answer_failure(request, exc)
            return secure(request, response)

        return dashboard_handler


def limit_page(scope: Scope, status: int, retry_after: int) -> Response:
    """A request the heavy-read limiter refused (429, 503), as a dashboard page."""
    request = Request(scope)
    return secure(request, error_page(request, status, None, (), {"Retry-After": str(retry_after)}))


def new_router() -> APIRouter:
    """A router for dashboard pages: under /dashboard, every failure answered as a page."""
    return APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)


def viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """The signed-in caller: an API bearer header if sent, else the dashboard session cookie.

    A session token late in its life is renewed: the new cookie goes out with the answer.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("a bearer token is required")
        request.state.claimed_subject = claimed_subject(token.strip())
        claims = decode_token(token.strip(), settings)
        subject, version, via = str(claims["sub"]), int(claims["ver"]), "bearer"
    else:
        token = request.cookies.get(COOKIE, "").strip()
        if not token:
            raise NotAuthenticated("sign in first")
        request.state.claimed_subject = claimed_subject(token)
        dashboard = read_session(session, token, settings)
        subject, version, via = dashboard.subject, dashboard.version, "cookie"
    principal = load_principal(session, subject, version)
    if via == "cookie":
        renewed = renew_session(dashboard, settings)
        request.state.dashboard_session = renewed.session if renewed else dashboard
        request.state.renewed = renewed
    request.state.principal = principal
    request.state.dashboard_auth = via
    return principal


ViewerDep = Annotated[Principal, Depends(viewer)]


def fallback_router() -> APIRouter:
    """The last dashboard route: an unknown path is a 404 page, a known one's wrong method 405."""
    router = new_router()

    @router.api_route(
        "/{rest:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        dependencies=[public()],
        response_class=HTMLResponse,
        response_model=None,
    )
    def unknown_page(
        request: Request, session: SessionDep, settings: SettingsDep, lang: Lang = None
    ) -> Response:
        """No such page; or no such method on this page."""
        _identify(request, session, settings)
        allowed = _allowed_methods(request.scope)
        if allowed:
            return error_page(request, 405, None, (), {"Allow": ", ".join(sorted(allowed))})
        raise NotFound("there is no dashboard page at this address")

    return router


def _identify(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Who is signed in, if anyone, for the page frame of an error page (no refusal)."""
    try:
        viewer(request, session, settings)
    except NotAuthenticated:
        request.state.principal = None


def _allowed_methods(scope: Scope) -> set[str]:
    """The methods another dashboard route serves at this path (none: the path is unknown)."""
    allowed: set[str] = set()
    for context in iter_route_contexts(scope["app"].routes):
        path = str(context.path or "")
        if not path.startswith(PREFIX) or path.endswith("{rest:path}"):
            continue
        regex, _, _ = compile_path(path)
        if regex.match(scope["path"]):
            allowed |= set(context.methods or ())
    return allowed


def page(*roles: str, scope: AccessScope = "none") -> Any:
    """Like ``allow()``: a route dependency admitting only signed-in callers with a role."""
    rule = Rule(frozenset(roles), scope)

    def check_page_roles(principal: ViewerDep) -> None:
        principal.require(*rule.roles)

    check_page_roles.rule = rule  # type: ignore[attr-defined]
    return Depends(check_page_roles)


def same_origin(request: Request) -> None:
    """Refuse a cookie-borne POST whose Origin (or Referer) is missing or names another host.

    A request signed in by an ``Authorization: Bearer`` header carries no ambient credential
    a forged form could ride on, so it passes.
    """
    if getattr(request.state, "dashboard_auth", None) == "bearer":
        return
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
