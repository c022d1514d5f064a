"""The oversight dashboard at /dashboard: HTML pages over the overview services.

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
from collections.abc import Callable, Coroutine, Sequence
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.authz import ANY_PERSON_ROLE, Rule, public, write_refusal
from api.dashboard import STATIC, templates
from api.dashboard.data import last_batches, review_queue
from api.dashboard.labels import LABELS, pick_language
from api.dashboard.svg import SUPPRESSED, bar_chart, heatmap, line_chart
from api.deps import SessionDep, SettingsDep, audit_context_for
from api.params import ProgrammeCodeQuery
from registry.access.principal import Principal
from registry.access.service import (
    LoginRefused,
    authenticate_user,
    load_principal,
    revoke_tokens,
)
from registry.access.tokens import claimed_subject, decode_token, issue_token
from registry.audit.reads import quality_report_persons
from registry.audit.service import record_event
from registry.core.errors import Forbidden, NotAuthenticated, RegistryError
from registry.overview import duplicates as duplicate_service
from registry.overview import service as overview
from registry.overview.export import to_csv, write_csv
from registry.overview.quality import quality_report
from registry.overview.schemas import to_json
from registry.programmes.service import get_programme, list_programmes

logger = logging.getLogger(__name__)

COOKIE = "registry_dashboard"
COOKIE_PATH = "/dashboard"
PREFIX = "/dashboard"

READERS = ("oversight", "analyst")
FEED_READERS = ("oversight", "steward")
ANY_PAGE = ("oversight", "analyst", "steward")

#: The pages in the navigation: key (label and path), roles that may open it.
PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coverage", READERS),
    ("overlaps", READERS),
    ("counts", READERS),
    ("trends", READERS),
    ("duplicates", READERS),
    ("quality", FEED_READERS),
    ("review", FEED_READERS),
)

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


def _refusal(request: Request, exc: RegistryError) -> Response:
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


def _error_page(request: Request, status: int, detail: str, errors: list[Any]) -> Response:
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
                response = _refusal(request, exc)
            except RegistryError as exc:
                response = _error_page(request, exc.status_code, exc.detail, exc.errors or [])
            except RequestValidationError as exc:
                errors = [
                    {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e["msg"]}
                    for e in exc.errors()
                ]
                response = _error_page(request, 422, "the request is not valid", errors)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return dashboard_handler


router = APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)


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


def _safe_next(target: str | None) -> str:
    """Where to go after sign-in: a dashboard path on this site, never elsewhere."""
    if (
        not target
        or not target.startswith(PREFIX)
        or target.startswith("//")
        or "\\" in target
        or urlsplit(target).netloc
        or target.startswith(f"{PREFIX}/login")
    ):
        return PREFIX
    return target


# -- sign-in -----------------------------------------------------------------------------------


@router.get(
    "/static/dashboard.css",
    dependencies=[public()],
    response_class=Response,
    response_model=None,
    responses={200: {"content": {"text/css": {}}}},
)
def stylesheet() -> Response:
    """The dashboard's one stylesheet."""
    return Response(
        (STATIC / "dashboard.css").read_text(encoding="utf-8"),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )


@router.get("/login", dependencies=[public()], response_class=HTMLResponse, response_model=None)
def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    lang: Lang = None,
) -> Response:
    """The sign-in form."""
    return render(request, "login.html", next=_safe_next(next), failed=False)


@router.post("/login", dependencies=[public()], response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = PREFIX,
    lang: Lang = None,
) -> Response:
    """Check the credentials with the API's sign-in service; set the session cookie."""
    same_origin(request)
    try:
        signed_in = authenticate_user(session, username, password, settings)
    except LoginRefused as exc:
        session.rollback()  # give the connection back first: a flood must not drain the pool
        write_refusal(request, exc)  # its own transaction: the refusal is audited
        return render(request, "login.html", status=401, next=_safe_next(next), failed=True)
    record_event(
        session,
        audit_context_for(request, signed_in.subject, signed_in.roles),
        "auth.login",
        detail={"grant": "password", "via": "dashboard"},
    )
    token, ttl = issue_token(signed_in.subject, settings, signed_in.version)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=ttl,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(
    "/logout",
    dependencies=[page(*ANY_PERSON_ROLE)],
    response_class=RedirectResponse,
    response_model=None,
)
def logout(
    request: Request, session: SessionDep, principal: ViewerDep, lang: Lang = None
) -> Response:
    """Revoke the caller's tokens (as the API's logout does) and drop the cookie."""
    if request.state.dashboard_auth == "cookie":
        same_origin(request)
    revoke_tokens(session, principal.subject)
    record_event(
        session,
        audit_context_for(request, principal.subject, tuple(principal.roles)),
        "auth.logout",
        detail={"via": "dashboard"},
    )
    response = RedirectResponse(link(f"{PREFIX}/login", language(request)), status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


# -- pages -------------------------------------------------------------------------------------


@router.get("", dependencies=[page(*ANY_PAGE)], response_class=HTMLResponse, response_model=None)
def home(request: Request, principal: ViewerDep, lang: Lang = None) -> Response:
    """The entry page: the pages this user may open."""
    return render(request, "home.html", principal=principal)


AsOf = Annotated[date | None, Query()]
#: The pages answer HTML, or CSV with `format=csv`.
CSV_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@router.get(
    "/coverage",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def coverage_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    table: Annotated[Literal["programme", "region"], Query()] = "programme",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Persons and enrolments by programme, and by programme and region, on a date."""
    day = as_of or date.today()
    k = settings.suppression_k
    if format == "csv":
        by = "programme" if table == "programme" else "programme,region"
        body = overview.coverage(session, principal, day, by, k=k)
        audit_view(request, session, principal, "coverage", {"as_of": str(day), "format": "csv"})
        return csv_response(to_csv("coverage", body), f"coverage-{table}-{day}.csv")
    by_programme = overview.coverage(session, principal, day, "programme", k=k)
    by_region = overview.coverage(session, principal, day, "programme,region", k=k)
    regions = sorted({r.region or "" for r in by_region.rows})
    pivot: dict[str, dict[str, Any]] = {}
    for row in by_region.rows:
        pivot.setdefault(row.programme or "", {})[row.region or ""] = row.persons
    audit_view(request, session, principal, "coverage", {"as_of": str(day), "format": "html"})
    return render(
        request,
        "coverage.html",
        principal=principal,
        as_of=day.isoformat(),
        by_programme=by_programme,
        regions=regions,
        pivot=pivot,
        suppressed=by_programme.suppressed or by_region.suppressed,
    )


@router.get(
    "/overlaps",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def overlaps_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """The programme-overlap matrix as a heat map, and as a table."""
    day = as_of or date.today()
    body = overview.overlaps(session, principal, day, k=settings.suppression_k)
    audit_view(request, session, principal, "overlaps", {"as_of": str(day), "format": format})
    if format == "csv":
        return csv_response(to_csv("overlaps", body), f"overlaps-{day}.csv")
    labels = LABELS[language(request)]
    return render(
        request,
        "overlaps.html",
        principal=principal,
        as_of=day.isoformat(),
        body=body,
        chart=heatmap(body.programmes, body.matrix, labels["overlaps"]),
    )


@router.get(
    "/counts",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def counts_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Persons by the number of programmes they are active in on a date, as bars."""
    day = as_of or date.today()
    body = overview.overlaps(session, principal, day, k=settings.suppression_k)
    rows = [{"programmes": n, "persons": v} for n, v in body.by_count.items()]
    audit_view(request, session, principal, "counts", {"as_of": str(day), "format": format})
    if format == "csv":
        return csv_response(write_csv(rows), f"persons-by-programmes-{day}.csv")
    labels = LABELS[language(request)]
    return render(
        request,
        "counts.html",
        principal=principal,
        as_of=day.isoformat(),
        rows=rows,
        suppressed=body.suppressed,
        chart=bar_chart(list(body.by_count.items()), labels["counts"]),
    )


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@router.get(
    "/trends",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def trends_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Distinct active persons per programme per month, as lines and as a table."""
    end = end or date.today()
    start = start or _months_back(end, 23)
    body = overview.timeseries(
        session, principal, start, end, interval="month", k=settings.suppression_k
    )
    audit_view(
        request,
        session,
        principal,
        "trends",
        {"from": str(start), "to": str(end), "format": format},
    )
    if format == "csv":
        return csv_response(to_csv("timeseries", body), f"trends-{start}-{end}.csv")
    periods = sorted({r.period_start[:7] for r in body.rows})
    programmes = sorted({r.programme for r in body.rows})
    cells = {(r.period_start[:7], r.programme): r.persons for r in body.rows}
    series: dict[str, Sequence[int | None]] = {
        p: [cells.get((m, p), 0) for m in periods] for p in programmes
    }
    labels = LABELS[language(request)]
    return render(
        request,
        "trends.html",
        principal=principal,
        start=start.isoformat(),
        end=end.isoformat(),
        periods=periods,
        programmes=programmes,
        cells=cells,
        suppressed=body.suppressed,
        chart=line_chart(periods, series, labels["trends"]),
    )


@router.get(
    "/duplicates",
    dependencies=[page(*READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def duplicates_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    as_of: AsOf = None,
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """Double enrolments per programme and persons in exclusive programme pairs (counts)."""
    day = as_of or date.today()
    body = duplicate_service.duplicates(session, principal, day, k=settings.suppression_k)
    named = [
        p.person_id
        for persons in (body.double_enrolments.persons, body.exclusive.persons)
        for p in persons or []
    ]
    audit_view(
        request, session, principal, "duplicates", {"as_of": str(day), "format": format}, named
    )
    if format == "csv":
        return csv_response(to_csv("duplicates", body), f"duplicates-{day}.csv")
    return render(
        request,
        "duplicates.html",
        principal=principal,
        as_of=day.isoformat(),
        body=body,
        listed=len(set(named)),
    )


@router.get(
    "/quality",
    dependencies=[page(*FEED_READERS)],
    response_class=HTMLResponse,
    response_model=None,
    responses=CSV_TOO,
)
def quality_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    programme: ProgrammeCodeQuery = None,
    table: Annotated[Literal["report", "batches"], Query()] = "report",
    format: Format = "html",
    lang: Lang = None,
) -> Response:
    """A feed's data-quality report and its last batches; first, the choice of feed."""
    codes = [p.code for p in list_programmes(session)]
    if programme is None:
        return render(request, "quality.html", principal=principal, codes=codes, report=None)
    report = quality_report(session, principal, programme, k=settings.suppression_k)
    batches = last_batches(session, get_programme(session, programme))
    # the report's CSV lists the source ids of its errors: name the persons behind them
    named = (
        quality_report_persons(session, to_json(report))
        if (format, table) == ("csv", "report")
        else []
    )
    audit_view(
        request, session, principal, "quality", {"programme": programme, "format": format}, named
    )
    if format == "csv":
        if table == "batches":
            return csv_response(write_csv(batches), f"batches-{programme}.csv")
        return csv_response(to_csv("quality", report), f"quality-{programme}.csv")
    codes_seen = sorted({c for q in report.quarters for c in q.recipients})
    return render(
        request,
        "quality.html",
        principal=principal,
        codes=codes,
        programme=programme,
        report=report,
        benefit_codes=codes_seen,
        batches=batches,
    )


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
