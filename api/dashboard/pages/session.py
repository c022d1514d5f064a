"""Sign-in and sign-out of the dashboard (one session each), and its stylesheets."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.authz import ANY_PERSON_ROLE, public, write_refusal
from api.dashboard import STATIC
from api.dashboard.clock import warning_styles
from api.dashboard.web import (
    COOKIE,
    COOKIE_PATH,
    PREFIX,
    Lang,
    ViewerDep,
    language,
    link,
    new_router,
    page,
    render,
    same_origin,
    set_session_cookie,
)
from api.deps import SessionDep, SettingsDep, audit_context_for
from registry.access.service import (
    LoginRefused,
    authenticate_user,
    revoke_tokens,
)
from registry.access.sessions import end_session, start_session
from registry.audit.service import record_event

router = new_router()


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


@router.get(
    "/static/frame.css",
    dependencies=[public()],
    response_class=Response,
    response_model=None,
    responses={200: {"content": {"text/css": {}}}},
)
def frame_stylesheet() -> Response:
    """The page frame's stylesheet: skip link, current page, the session's warning."""
    text = (STATIC / "frame.css").read_text(encoding="utf-8") + "\n" + warning_styles() + "\n"
    return Response(
        text, media_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=3600"}
    )


@router.get("/login", dependencies=[public()], response_class=HTMLResponse, response_model=None)
def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    session: Annotated[Literal["ended"] | None, Query()] = None,
    lang: Lang = None,
) -> Response:
    """The sign-in form (saying so when the browser's session has ended)."""
    return render(
        request, "login.html", next=_safe_next(next), failed=False, ended=session == "ended"
    )


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
        return render(
            request, "login.html", status=401, next=_safe_next(next), failed=True, ended=False
        )
    record_event(
        session,
        audit_context_for(request, signed_in.subject, signed_in.roles),
        "auth.login",
        detail={"grant": "password", "via": "dashboard"},
    )
    issued = start_session(signed_in.subject, signed_in.version, settings)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, issued)
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
    """End this browser's session (others of the user live on) and drop the cookie.

    A script signed in with an API bearer token ends that token's subject as the API's
    logout does.
    """
    if request.state.dashboard_auth == "cookie":
        same_origin(request)
        end_session(session, request.state.dashboard_session)
        request.state.renewed = None
        ended = "session"
    else:
        revoke_tokens(session, principal.subject)
        ended = "subject"
    record_event(
        session,
        audit_context_for(request, principal.subject, tuple(principal.roles)),
        "auth.logout",
        detail={"via": "dashboard", "ended": ended},
    )
    response = RedirectResponse(link(f"{PREFIX}/login", language(request)), status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


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
