"""The administrator's pages: users, feed clients (secret shown once), programmes, exclusivity.

Every change goes through the same services as the API (`registry.access.service`, its
password policy; `registry.programmes`) and writes the same audit events. Every POST sent
with the session cookie passes `same_origin` (a bearer header is no ambient credential); a
success redirects (post/redirect/get) with a notice, a refusal shows the form again naming
the field and the rule in the page's language. A new or rotated client secret is shown once,
in the answer to the POST itself: never in a URL, the trail, a log, or any later page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.dashboard.field_errors import FieldError, errors_by_field, field_errors
from api.dashboard.web import (
    PREFIX,
    Lang,
    ViewerDep,
    audit_view,
    language,
    link,
    new_router,
    page,
    render,
    same_origin,
)
from api.deps import SessionDep, audit_context_for
from registry.access.models import ROLES
from registry.access.password_policy import MIN_PASSWORD_LENGTH
from registry.access.principal import Principal
from registry.access.service import (
    IssuedClient,
    create_client,
    create_user,
    disable_user,
    enable_user,
    get_user,
    list_clients,
    list_users,
    reset_password,
    rotate_client_secret,
)
from registry.audit.service import record_event
from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.programmes.exclusivity import exclusive_pairs, mark_exclusive, unmark_exclusive
from registry.programmes.service import create_programme, list_programmes

router = new_router()

ADMIN = ("admin",)
#: Roles a person may be given here (feed belongs to clients).
PERSON_ROLES = tuple(r for r in ROLES if r != "feed")
#: Longest comma-separated list of regions, programmes or benefit codes in a form.
LIST_FIELD = 2000

UsernamePath = Annotated[str, Path(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
ClientIdPath = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Notice = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")]
Name = Annotated[str | None, Query(max_length=100)]
T = TypeVar("T")


@dataclass(frozen=True)
class UserForm:
    """The create-user form as typed (never the password)."""

    username: str = ""
    roles: list[str] = field(default_factory=list)
    regions: str = ""
    programmes: str = ""


@dataclass(frozen=True)
class ClientForm:
    """The create-client form as typed."""

    programme: str = ""
    name: str = ""


@dataclass(frozen=True)
class ProgrammeForm:
    """The create-programme form as typed."""

    code: str = ""
    name: str = ""
    agency: str = ""
    benefit_codes: str = ""
    trust_rank: str = "0"


def _codes(text: str) -> list[str]:
    """A list typed as text: separated by commas or spaces, blanks dropped."""
    return [part for part in text.replace(",", " ").split() if part]


def _guard(request: Request) -> None:
    """Every cookie-borne POST must come from this site."""
    same_origin(request)


def _attempt(
    session: Session, work: Callable[[], T], field_name: str
) -> tuple[T | None, list[FieldError]]:
    """Run a change in a savepoint; a refusal rolls it back and becomes field errors."""
    try:
        with session.begin_nested():
            return work(), []
    except (InvalidInput, Conflict, NotFound) as exc:
        rule = "not_found" if isinstance(exc, NotFound) else "invalid"
        return None, field_errors(exc, field_name, rule)


def _done(request: Request, path: str, notice: str, name: str) -> Response:
    """Back to a page after a change, with a notice (post/redirect/get)."""
    target = link(f"{PREFIX}{path}", language(request), notice=notice, name=name)
    return RedirectResponse(target, status_code=303)


def _audit(
    request: Request, session: Session, principal: Principal, action: str, **detail: Any
) -> None:
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    record_event(session, context, action, detail=detail)


def _users_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    after: str | None = None,
    form: UserForm | None = None,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
    name: str | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "admin.html",
        status=422 if errors else 200,
        principal=principal,
        section="users",
        users=list_users(session, after=after),
        form=form or UserForm(),
        roles=PERSON_ROLES,
        min_password=MIN_PASSWORD_LENGTH,
        errors=errors,
        invalid=errors_by_field(errors),
        notice=notice,
        notice_name=name or "",
    )


@router.get("/admin", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None)
def users_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    after: Annotated[str | None, Query(max_length=100)] = None,
    notice: Notice = None,
    name: Name = None,
    lang: Lang = None,
) -> Response:
    """Users (a page at a time, by name) and the form to create one."""
    audit_view(request, session, principal, "admin.users", {"after": after} if after else {})
    return _users_page(request, session, principal, after=after, notice=notice, name=name)


@router.post(
    "/admin/users", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None
)
def create_user_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    roles: Annotated[list[str], Form(max_length=len(ROLES))] = [],  # noqa: B006
    regions: Annotated[str, Form(max_length=LIST_FIELD)] = "",
    programmes: Annotated[str, Form(max_length=LIST_FIELD)] = "",
    lang: Lang = None,
) -> Response:
    """Create a user with roles and regions (the password policy holds)."""
    _guard(request)
    form = UserForm(username.strip(), roles, regions, programmes)
    created, errors = _attempt(
        session,
        lambda: create_user(
            session,
            username=form.username,
            password=password,
            roles=roles,
            regions=_codes(regions),
            programmes=_codes(programmes),
        ),
        "programmes",
    )
    if created is None:
        return _users_page(request, session, principal, form=form, errors=errors)
    _audit(
        request, session, principal, "user.create", username=created.username, roles=created.roles
    )
    return _done(request, "/admin", "user_created", created.username)


def _user_page(
    request: Request,
    session: Session,
    principal: Principal,
    username: str,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "admin_user.html",
        status=422 if errors else 200,
        principal=principal,
        section="users",
        user=get_user(session, username),
        min_password=MIN_PASSWORD_LENGTH,
        errors=errors,
        invalid=errors_by_field(errors),
        notice=notice,
        notice_name=username,
    )


@router.get(
    "/admin/users/{username}",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def user_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    username: UsernamePath,
    notice: Notice = None,
    lang: Lang = None,
) -> Response:
    """One user: roles, regions, state; disable or enable; reset the password."""
    audit_view(request, session, principal, "admin.user", {"username": username})
    return _user_page(request, session, principal, username, notice=notice)


def _change_user(
    request: Request,
    session: Session,
    principal: Principal,
    username: str,
    work: Callable[[], Any],
    action: str,
    notice: str,
    field_name: str,
) -> Response:
    _guard(request)
    changed, errors = _attempt(session, work, field_name)
    if changed is None:
        return _user_page(request, session, principal, username, errors=errors)
    _audit(request, session, principal, action, username=username, id=changed.id)
    return _done(request, f"/admin/users/{username}", notice, username)


@router.post(
    "/admin/users/{username}/disable",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def disable_user_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    username: UsernamePath,
    lang: Lang = None,
) -> Response:
    """Disable a user: sign-in refused, every token revoked."""
    return _change_user(
        request,
        session,
        principal,
        username,
        lambda: disable_user(session, username, by=principal.subject),
        "user.disable",
        "user_disabled",
        "username",
    )


@router.post(
    "/admin/users/{username}/enable",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def enable_user_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    username: UsernamePath,
    lang: Lang = None,
) -> Response:
    """Enable a disabled user again."""
    return _change_user(
        request,
        session,
        principal,
        username,
        lambda: enable_user(session, username),
        "user.enable",
        "user_enabled",
        "username",
    )


@router.post(
    "/admin/users/{username}/password",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def reset_password_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    username: UsernamePath,
    password: Annotated[str, Form(max_length=1024)] = "",
    lang: Lang = None,
) -> Response:
    """Set a user's password (the policy holds); its sessions end, its sign-in lock lifts."""
    return _change_user(
        request,
        session,
        principal,
        username,
        lambda: reset_password(session, username, password, by=principal.subject),
        "user.password_reset",
        "password_reset",
        "password",
    )


def _clients_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    issued: IssuedClient | None = None,
    form: ClientForm | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "admin_clients.html",
        status=422 if errors else 200,
        principal=principal,
        section="clients",
        clients=list_clients(session),
        programmes=list_programmes(session),
        issued=issued,
        form=form or ClientForm(),
        errors=errors,
        invalid=errors_by_field(errors),
        notice=None,
        notice_name="",
    )


@router.get(
    "/admin/clients", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None
)
def clients_page(
    request: Request, session: SessionDep, principal: ViewerDep, lang: Lang = None
) -> Response:
    """Feed clients (never a secret) and the form to create one."""
    audit_view(request, session, principal, "admin.clients", {})
    return _clients_page(request, session, principal)


@router.post(
    "/admin/clients", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None
)
def create_client_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    programme: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    lang: Lang = None,
) -> Response:
    """Create a feed client bound to a programme; its secret is shown on this answer only."""
    _guard(request)
    form = ClientForm(programme, name)
    if not name.strip():
        errors = [FieldError("name", "required", None, "name is required")]
        return _clients_page(request, session, principal, form=form, errors=errors)
    issued, errors = _attempt(
        session,
        lambda: create_client(session, programme_code=programme, name=name.strip()),
        "programme",
    )
    if issued is None:
        return _clients_page(request, session, principal, form=form, errors=errors)
    _audit(request, session, principal, "client.create", programme=issued.programme)
    return _clients_page(request, session, principal, issued=issued)


@router.post(
    "/admin/clients/{client_id}/secret",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def rotate_secret_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    client_id: ClientIdPath,
    lang: Lang = None,
) -> Response:
    """Give a client a new secret, shown on this answer only; the old one stops working."""
    _guard(request)
    issued = rotate_client_secret(session, client_id)
    _audit(
        request,
        session,
        principal,
        "client.rotate_secret",
        client_id=client_id,
        programme=issued.programme,
    )
    return _clients_page(request, session, principal, issued=issued)


def _programmes_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: ProgrammeForm | None = None,
    pair_form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    pair_errors: list[FieldError] | None = None,
    notice: str | None = None,
    name: str | None = None,
) -> Response:
    errors, pair_errors = errors or [], pair_errors or []
    return render(
        request,
        "admin_programmes.html",
        status=422 if errors or pair_errors else 200,
        principal=principal,
        section="programmes",
        programmes=list_programmes(session),
        pairs=exclusive_pairs(session),
        form=form or ProgrammeForm(),
        pair_form=pair_form or {"code": "", "other": ""},
        errors=[*errors, *pair_errors],
        invalid=errors_by_field(errors),
        pair_invalid=errors_by_field(pair_errors),
        notice=notice,
        notice_name=name or "",
    )


@router.get(
    "/admin/programmes",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def programmes_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    notice: Notice = None,
    name: Name = None,
    lang: Lang = None,
) -> Response:
    """Programmes, the pairs marked mutually exclusive, and the forms to add either."""
    audit_view(request, session, principal, "admin.programmes", {})
    return _programmes_page(request, session, principal, notice=notice, name=name)


@router.post(
    "/admin/programmes",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def create_programme_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    code: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    agency: Annotated[str, Form(max_length=200)] = "",
    benefit_codes: Annotated[str, Form(max_length=LIST_FIELD)] = "",
    trust_rank: Annotated[str, Form(max_length=3)] = "0",
    lang: Lang = None,
) -> Response:
    """Register a programme and the L402 benefit codes it grants."""
    _guard(request)
    form = ProgrammeForm(code.strip(), name, agency, benefit_codes, trust_rank)
    if not trust_rank.strip().isdigit():
        errors = [FieldError("trust_rank", "range", None, "trust_rank must be 0-100")]
        return _programmes_page(request, session, principal, form=form, errors=errors)
    created, errors = _attempt(
        session,
        lambda: create_programme(
            session,
            code=form.code,
            name=name.strip(),
            agency=agency.strip() or None,
            benefit_codes_allowed=_codes(benefit_codes),
            trust_rank=int(trust_rank),
        ),
        "code",
    )
    if created is None:
        return _programmes_page(request, session, principal, form=form, errors=errors)
    _audit(request, session, principal, "programme.create", programme=created.code)
    return _done(request, "/admin/programmes", "programme_created", created.code)


def _pair_change(
    request: Request,
    session: Session,
    principal: Principal,
    code: str,
    other: str,
    mark: bool,
) -> Response:
    _guard(request)
    if mark:
        work: Callable[[], Any] = lambda: mark_exclusive(session, code, other, principal.subject)  # noqa: E731
    else:
        work = lambda: unmark_exclusive(session, code, other)  # noqa: E731
    done, errors = _attempt(session, work, "other")
    if done is None:
        pair_form = {"code": code, "other": other}
        return _programmes_page(
            request, session, principal, pair_form=pair_form, pair_errors=errors
        )
    action = "programme.exclusive" if mark else "programme.unexclusive"
    _audit(request, session, principal, action, programmes=[code, other])
    notice = "pair_marked" if mark else "pair_removed"
    return _done(request, "/admin/programmes", notice, f"{code} / {other}")


@router.post(
    "/admin/exclusions",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def mark_pair_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    code: Annotated[str, Form(max_length=32)] = "",
    other: Annotated[str, Form(max_length=32)] = "",
    lang: Lang = None,
) -> Response:
    """Mark two programmes mutually exclusive (idempotent)."""
    return _pair_change(request, session, principal, code, other, mark=True)


@router.post(
    "/admin/exclusions/remove",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def remove_pair_form(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    code: Annotated[str, Form(max_length=32)] = "",
    other: Annotated[str, Form(max_length=32)] = "",
    lang: Lang = None,
) -> Response:
    """Remove a mutual exclusion (idempotent)."""
    return _pair_change(request, session, principal, code, other, mark=False)
