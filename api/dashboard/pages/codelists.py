"""The administrator's code-list pages: the lists, one list's entries by version and date, a
CSV upload; and a programme's edit form with its history.

Loads and edits go through the same services as the API (`registry.codelists.service`,
`registry.programmes.service`) and write the same audit events (`codelist.load`,
`programme.update`). Every POST passes `same_origin`; a success redirects with a notice; a
refusal shows the form again naming the field and the rule (a CSV's row) in the page's language.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import File, Form, Path, Query, Request, UploadFile
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
from registry.access.principal import Principal
from registry.audit.service import record_event
from registry.codelists.entries import (
    MAX_CSV_BYTES,
    NAME_PATTERN,
    check_header,
    entries_from_csv,
)
from registry.codelists.models import KINDS
from registry.codelists.service import list_lists, load_list, read_list
from registry.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from registry.programmes.codes import PROGRAMME_CODE_PATTERN
from registry.programmes.schemas import ProgrammeChange
from registry.programmes.service import (
    get_programme,
    list_programmes,
    programme_history,
    update_programme,
)
from registry.records.fields import STATUSES

router = new_router()

ADMIN = ("admin",)
#: Longest comma-separated list of benefit codes in the edit form.
LIST_FIELD = 2000
ListName = Annotated[str, Path(pattern=NAME_PATTERN)]
ProgrammeCode = Annotated[str, Path(pattern=PROGRAMME_CODE_PATTERN)]
Notice = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")]
Name = Annotated[str | None, Query(max_length=100)]
_ENTRY = re.compile(r"^entries\[(\d+)\]")
#: Rules of a CSV row the labels name with the row number; others show the service's sentence.
ROW_RULES = frozenset(
    (
        "status_target",
        "registry_status",
        "duplicate_code",
        "before_valid_from",
        "invalid_date",
        "invalid_code",
        "invalid_characters",
        "attribute_name",
    )
)


def _utc(moment: datetime) -> datetime:
    """A moment in UTC, as the pages show times."""
    return moment.astimezone(UTC)


def _audit(
    request: Request, session: Session, principal: Principal, action: str, **detail: Any
) -> None:
    context = audit_context_for(request, principal.subject, tuple(principal.roles))
    record_event(session, context, action, detail=detail)


def _done(request: Request, path: str, notice: str, name: str | None = None) -> Response:
    target = link(f"{PREFIX}{path}", language(request), notice=notice, name=name)
    return RedirectResponse(target, status_code=303)


def _upload_errors(exc: InvalidInput | Conflict | PayloadTooLarge) -> list[FieldError]:
    """A refusal's errors for the upload form: an entry's error is the file's, with its row
    (the header is row 1, so entries[0] is row 2)."""
    found = []
    for error in field_errors(exc, "file"):
        row = _ENTRY.match(error.field)
        if row and error.rule in ROW_RULES:
            found.append(FieldError("file", error.rule, int(row.group(1)) + 2, error.message))
        elif row:
            number = int(row.group(1)) + 2
            found.append(FieldError("file", "row_detail", None, f"row {number}: {error.message}"))
        else:
            found.append(error)
    return found


def _lists_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
    name: str | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "codelists.html",
        status=422 if errors else 200,
        principal=principal,
        lists=list_lists(session),
        programmes=list_programmes(session),
        kinds=KINDS,
        form=form or {"name": "", "kind": "benefit", "owner": ""},
        errors=errors,
        invalid=errors_by_field(errors),
        max_bytes=MAX_CSV_BYTES,
        utc=_utc,
        notice=notice,
        notice_name=name or "",
    )


@router.get(
    "/codelists", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None
)
def codelists_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    notice: Notice = None,
    name: Name = None,
    lang: Lang = None,
) -> Response:
    """Every code list with its current version, the programmes, and the CSV upload form."""
    audit_view(request, session, principal, "codelists", {})
    return _lists_page(request, session, principal, notice=notice, name=name)


@router.post(
    "/codelists", dependencies=[page(*ADMIN)], response_class=HTMLResponse, response_model=None
)
def upload_codelist(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    file: Annotated[UploadFile | None, File()] = None,
    name: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    owner: Annotated[str, Form(max_length=32)] = "",
    lang: Lang = None,
) -> Response:
    """Load a list from a CSV file: a new list, or the next version of one."""
    same_origin(request)
    form = {"name": name.strip(), "kind": kind, "owner": owner.strip()}
    data = file.file.read(MAX_CSV_BYTES + 1) if file is not None else b""
    try:
        with session.begin_nested():
            if not data:
                check_header(form["name"], kind, form["owner"] or None)  # its errors first
                raise InvalidInput(
                    "choose a CSV file",
                    errors=[{"field": "file", "rule": "required", "message": "choose a file"}],
                )
            summary = load_list(
                session,
                name=form["name"],
                kind=kind,
                owner=form["owner"] or None,
                entries=entries_from_csv(data),
                statuses=STATUSES,
                source=((file.filename if file else None) or "upload.csv")[:200],
                loaded_by=principal.subject,
            )
    except (InvalidInput, Conflict, PayloadTooLarge) as exc:
        errors = _upload_errors(exc)
        return _lists_page(request, session, principal, form=form, errors=errors)
    _audit(
        request,
        session,
        principal,
        "codelist.load",
        list=summary.name,
        kind=summary.kind,
        owner=summary.owner,
        version=summary.version,
        entries=summary.entries,
        source=summary.source,
    )
    return _done(request, f"/codelists/{summary.name}", "codelist_loaded")


@router.get(
    "/codelists/{name}",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def codelist_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    name: ListName,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    as_of: date | None = None,
    notice: Notice = None,
    lang: Lang = None,
) -> Response:
    """One list's entries: a version (the current one unless chosen), those valid on a date."""
    audit_view(
        request,
        session,
        principal,
        "codelist",
        {"list": name, "version": version, "as_of": as_of.isoformat() if as_of else None},
    )
    view = read_list(session, name, version=version, as_of=as_of)
    return render(
        request,
        "codelist.html",
        principal=principal,
        view=view,
        versions=list(range(view.latest_version, 0, -1)),
        utc=_utc,
        notice=notice,
        notice_name=name,
    )


def _programme_page(
    request: Request,
    session: Session,
    principal: Principal,
    code: str,
    *,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
) -> Response:
    errors = errors or []
    programme = get_programme(session, code)
    current = {
        "name": programme.name,
        "agency": programme.agency or "",
        "benefit_codes": ", ".join(programme.benefit_codes),
        "trust_rank": str(programme.trust_rank),
    }
    return render(
        request,
        "programme_edit.html",
        status=422 if errors else 200,
        principal=principal,
        programme=programme,
        form=form or current,
        history=list(reversed(programme_history(session, code))),
        utc=_utc,
        errors=errors,
        invalid=errors_by_field(errors),
        notice=notice,
        notice_name=code,
    )


@router.get(
    "/admin/programmes/{code}",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def programme_page(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    code: ProgrammeCode,
    notice: Notice = None,
    lang: Lang = None,
) -> Response:
    """A programme's edit form and its history, newest first."""
    audit_view(request, session, principal, "admin.programme", {"programme": code})
    return _programme_page(request, session, principal, code, notice=notice)


@router.post(
    "/admin/programmes/{code}",
    dependencies=[page(*ADMIN)],
    response_class=HTMLResponse,
    response_model=None,
)
def edit_programme(
    request: Request,
    session: SessionDep,
    principal: ViewerDep,
    code: ProgrammeCode,
    name: Annotated[str, Form(max_length=200)] = "",
    agency: Annotated[str, Form(max_length=200)] = "",
    benefit_codes: Annotated[str, Form(max_length=LIST_FIELD)] = "",
    trust_rank: Annotated[str, Form(max_length=3)] = "0",
    lang: Lang = None,
) -> Response:
    """Change the programme's name, agency, benefit codes and trust rank."""
    same_origin(request)
    form = {
        "name": name,
        "agency": agency,
        "benefit_codes": benefit_codes,
        "trust_rank": trust_rank,
    }
    if not trust_rank.strip().isdigit():
        errors = [FieldError("trust_rank", "range", None, "trust_rank must be 0-100")]
        return _programme_page(request, session, principal, code, form=form, errors=errors)
    change = ProgrammeChange(
        name=name.strip(),
        agency=agency.strip(),
        benefit_codes=[c for c in benefit_codes.replace(",", " ").split() if c],
        trust_rank=int(trust_rank),
    )
    try:
        with session.begin_nested():
            update_programme(session, code, change, changed_by=principal.subject)
    except (InvalidInput, Conflict, NotFound) as exc:
        errors = field_errors(exc, "name")
        return _programme_page(request, session, principal, code, form=form, errors=errors)
    _audit(
        request,
        session,
        principal,
        "programme.update",
        programme=code,
        fields=["agency", "benefit_codes", "name", "trust_rank"],
    )
    return _done(request, f"/admin/programmes/{code}", "programme_updated")
