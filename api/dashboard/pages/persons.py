"""The person search and the person page (oversight reads; stewards also act), in regions.

Every person-level page states its purpose, picked from PURPOSES (and an optional case
reference): the search form requires it, the person page asks for it before showing anything,
and it goes into the audit trail with the persons shown. The search is a POST, so a national
ID never appears in a URL, the browser history or a Referer; the trail keeps its digest.
Stewards' actions (rectify, merge, split) are POSTs with a reason, checked for same origin.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.labels import LABELS
from api.dashboard.nav import FEED_READERS
from api.dashboard.timeline import Span, timeline
from api.dashboard.web import (
    PREFIX,
    AsOf,
    Lang,
    ViewerDep,
    error_page,
    language,
    link,
    new_router,
    page,
    render,
    same_origin,
)
from api.deps import SessionDep, SettingsDep, audit_context_for
from api.search_rate import search_limiter
from registry.access.principal import Principal
from registry.audit.service import AuditContext, record_event, record_identity_decision
from registry.core.errors import InvalidInput
from registry.matching.stewardship import merge_persons, person_history, split_person
from registry.matching.store import active_model
from registry.persons.provenance import golden_sources
from registry.persons.schemas import PersonSearchResult, PersonView
from registry.persons.search import (
    MAX_LIMIT,
    NameQuery,
    SearchFilters,
    parse_birth_date,
    search_by_name,
    search_by_national_id,
)
from registry.persons.service import get_person
from registry.programmes.service import list_programmes
from registry.subject.service import RECTIFIABLE, rectify, subject_access

router = new_router()

#: Why a person is read: the choices of the forms (labels person_purpose_<code>).
PURPOSES = ("case", "control", "subject", "linkage", "supervision")
PurposeCode = Literal["case", "control", "subject", "linkage", "supervision"]
STEWARD = ("steward",)
_CODE = r"^[A-Za-z0-9_-]{1,16}$"
Text = Annotated[str, Form(max_length=200)]
Reason = Annotated[str, Form(min_length=1, max_length=2000)]
Case = Annotated[str | None, Query(max_length=100)]
#: The search form's fields, as first shown.
EMPTY_FORM: dict[str, Any] = dict.fromkeys(
    ("purpose", "case", "given_name", "family_name", "birth_date", "region", "programme"), ""
) | {"limit": 10}


def purpose_text(purpose: str, case: str | None) -> str:
    """The purpose as the trail keeps it: the code, and the case reference if one was given."""
    return f"dashboard:{purpose}" + (f" case:{case.strip()}" if case and case.strip() else "")


def _context(request: Request, principal: Principal, purpose: str | None) -> AuditContext:
    """The request's audit context with the purpose picked in the page (not a header)."""
    return replace(
        audit_context_for(request, principal.subject, tuple(principal.roles)), purpose=purpose
    )


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _search_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    status: int = 200,
    **ctx: Any,
) -> Response:
    codes = [p.code for p in list_programmes(session)]
    ctx["form"] = {**EMPTY_FORM, **ctx.get("form", {})}
    labels = LABELS[language(request)]
    return render(
        request,
        "search.html",
        status=status,
        principal=principal,
        purposes=PURPOSES,
        codes=codes,
        max_limit=MAX_LIMIT,
        level_label=lambda level: level_label(level, labels),
        **ctx,
    )


def level_label(level: str, labels: dict[str, str]) -> str:
    """An engine's comparison level in the page's words ('jw>=0.94': similar, ≥ 0.94)."""
    if level.startswith("jw>="):
        return f"{labels['person_level_similar']} (≥ {level[4:]})"
    return labels.get(f"person_level_{level}", level)


@router.get(
    "/persons",
    dependencies=[page(*FEED_READERS)],
    response_class=HTMLResponse,
    response_model=None,
)
def search_form(
    request: Request, session: SessionDep, principal: ViewerDep, lang: Lang = None
) -> Response:
    """The search form: national ID, or names and birth date; filters; a purpose."""
    return _search_form(request, session, principal)


@router.post(
    "/persons",
    dependencies=[page(*FEED_READERS)],
    response_class=HTMLResponse,
    response_model=None,
)
def search(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    purpose: Annotated[PurposeCode | None, Form()] = None,
    case: Annotated[str, Form(max_length=100)] = "",
    national_id: Annotated[str, Form(max_length=64)] = "",
    given_name: Text = "",
    family_name: Text = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    region: Annotated[str, Form(max_length=16)] = "",
    programme: Annotated[str, Form(max_length=32)] = "",
    limit: Annotated[int, Form(ge=1, le=MAX_LIMIT)] = 10,
    lang: Lang = None,
) -> Response:
    """Run a search (national ID or names), audited with its purpose; the ranked results."""
    same_origin(request)
    form = {
        "purpose": purpose,
        "case": case,
        "given_name": given_name,
        "family_name": family_name,
        "birth_date": birth_date,
        "region": region,
        "programme": programme,
        "limit": limit,
    }
    if purpose is None:
        error = {"field": "purpose", "message": "person_purpose_required"}
        return _search_form(request, session, principal, 422, form=form, errors=[error])
    per_minute = settings.person_searches_per_minute
    wait = search_limiter(request.app, per_minute).admit(principal.subject)
    if wait is not None:
        refused = error_page(request, 429, f"at most {per_minute} person searches a minute", [])
        refused.headers["Retry-After"] = str(wait)
        return refused
    try:
        result, detail = _run_search(session, settings, principal, form, national_id)
    except InvalidInput as exc:
        errors = exc.errors or [{"field": "", "message": exc.detail}]
        return _search_form(request, session, principal, 422, form=form, errors=errors)
    record_event(
        session,
        _context(request, principal, purpose_text(purpose, case)),
        "person.search",
        person_ids=[p.person_id for p in result.persons],
        detail={**detail, "page": "persons"},
    )
    return _search_form(request, session, principal, form=form, result=result)


def _run_search(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal,
    form: dict[str, Any],
    national_id: str,
) -> tuple[PersonSearchResult, dict[str, Any]]:
    """The search the form asks for, and what the trail records of it (no names, no ID)."""
    if form["region"] and not re.match(_CODE, form["region"]):
        raise InvalidInput("region is not a code", errors=[{"field": "region", "message": _CODE}])
    filters = SearchFilters(
        region=_blank(form["region"]), programme=_blank(form["programme"]), limit=form["limit"]
    )
    detail: dict[str, Any] = {"region": filters.region, "programme": filters.programme}
    if _blank(national_id):
        if _blank(form["given_name"]) or _blank(form["family_name"]):
            raise InvalidInput(
                "search by national ID or by names, not both",
                errors=[{"field": "national_id", "message": "not together with names"}],
            )
        result, hashed = search_by_national_id(
            session,
            principal,
            national_id,
            scheme=settings.national_id_scheme,
            key=settings.secret("national_id_key").encode(),
            filters=filters,
        )
        return result, {**detail, "by": "national_id", "national_id_digest": hashed}
    born = _blank(form["birth_date"])
    query = NameQuery(
        given_name=_blank(form["given_name"]),
        family_name=_blank(form["family_name"]),
        birth_date=parse_birth_date(born) if born else None,
    )
    result = search_by_name(
        session,
        principal,
        query,
        model=active_model(session)[1],
        max_block=settings.linkage_max_block,
        filters=filters,
    )
    return result, {**detail, "by": "name", "fields": query.searched_fields()}


def _active_on(person: PersonView, day: date) -> list[dict[str, Any]]:
    """The person's enrolments active on the day (current versions of live records)."""
    return [
        {"programme": p.programme, "source_id": p.source_id, **asdict(e)}
        for p in person.programmes
        if not p.retracted
        for e in p.enrolments
        if e.superseded_at is None
        and e.start_date <= day
        and (e.end_date is None or day <= e.end_date)
    ]


def _spans(person: PersonView) -> list[Span]:
    return [
        Span(p.programme, e.benefit_code, e.start_date, e.end_date)
        for p in person.programmes
        if not p.retracted
        for e in p.enrolments
        if e.superseded_at is None
    ]


@router.get(
    "/persons/{person_id}",
    dependencies=[page(*FEED_READERS, scope="region")],
    response_class=HTMLResponse,
    response_model=None,
)
def person_page(
    request: Request,
    person_id: str,
    session: SessionDep,
    principal: ViewerDep,
    purpose: Annotated[PurposeCode | None, Query()] = None,
    case: Case = None,
    as_of: AsOf = None,
    done: Annotated[Literal["merge", "split", "rectify"] | None, Query()] = None,
    new: Annotated[str | None, Query(max_length=64)] = None,
    lang: Lang = None,
) -> Response:
    """The person: golden record and sources, enrolments on a date and over time, history."""
    person = get_person(session, principal, person_id)  # out of scope: 404, like nobody
    if purpose is None:
        return render(
            request,
            "person_purpose.html",
            principal=principal,
            person_id=person.person_id,
            purposes=PURPOSES,
        )
    day = as_of or date.today()
    history = person_history(session, principal, person_id)
    sources = golden_sources(session, principal, person_id)
    t = LABELS[language(request)]
    chart = timeline(_spans(person), day, t["person_timeline"], t["person_timeline_desc"])
    named = [p for e in history.events for p in (e.person_id, e.other_person_id) if p]
    record_event(
        session,
        _context(request, principal, purpose_text(purpose, case)),
        "person.read",
        person_ids=[person.person_id, *named],
        record_ids=[f"{p.programme}:{p.source_id}" for p in person.programmes],
        detail={"page": "person", "as_of": day.isoformat()},
    )
    return render(
        request,
        "person.html",
        principal=principal,
        person=person,
        sources=sources,
        history=history,
        active=_active_on(person, day),
        day=day,
        chart=chart,
        purpose=purpose,
        case=case,
        steward=principal.has_any(*STEWARD),
        rectifiable=RECTIFIABLE,
        done=done,
        new=new,
    )


@router.get(
    "/persons/{person_id}/subject-access",
    dependencies=[page(*STEWARD, scope="region")],
    response_class=Response,
    response_model=None,
    responses={200: {"content": {"application/json": {}}}},
)
def subject_access_export(
    request: Request,
    person_id: str,
    session: SessionDep,
    principal: ViewerDep,
    purpose: Annotated[PurposeCode, Query()] = "subject",
    case: Case = None,
    lang: Lang = None,
) -> Response:
    """Everything held on the person as one JSON download (the API's subject-access export)."""
    export = subject_access(session, principal, person_id)
    record_event(
        session,
        _context(request, principal, purpose_text(purpose, case)),
        "person.subject_access",
        person_ids=[export.person.person_id],
        record_ids=[f"{r.programme}:{r.source_id}" for r in export.source_records],
        detail={"page": "person"},
    )
    body = json.dumps(asdict(export), default=str, ensure_ascii=False, indent=1)
    name = f"subject-access-{export.person.person_id}.json"
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _back(
    request: Request, person_id: str, purpose: str, case: str, **params: str | None
) -> Response:
    """See the person page again (303), with the purpose it was opened for."""
    target = link(
        f"{PREFIX}/persons/{person_id}",
        language(request),
        purpose=purpose,
        case=case or None,
        **params,
    )
    return RedirectResponse(target, status_code=303)


ActionPurpose = Annotated[PurposeCode, Form()]
ActionCase = Annotated[str, Form(max_length=100)]


@router.post(
    "/persons/{person_id}/rectify",
    dependencies=[page(*STEWARD, scope="region")],
    response_class=RedirectResponse,
    response_model=None,
)
def rectify_form(
    request: Request,
    person_id: str,
    session: SessionDep,
    principal: ViewerDep,
    reason: Reason,
    purpose: ActionPurpose,
    case: ActionCase = "",
    given_name: Text = "",
    family_name: Text = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    sex: Annotated[str, Form(max_length=1)] = "",
    municipality: Annotated[str, Form(max_length=16)] = "",
    mother_name: Text = "",
    lang: Lang = None,
) -> Response:
    """Correct the golden-record fields filled in, with a reason (the old values are kept)."""
    same_origin(request)
    given = {
        "given_name": given_name,
        "family_name": family_name,
        "birth_date": birth_date,
        "sex": sex,
        "municipality": municipality,
        "mother_name": mother_name,
    }
    changes = {k: v.strip() for k, v in given.items() if v.strip()}
    context = _context(request, principal, purpose_text(purpose, case))
    done = rectify(session, principal, person_id, changes, reason, context.request_id)
    record_identity_decision(
        session,
        context,
        "person.rectify",
        person_ids=[done.person_id],
        record_ids=done.record_ids,
        fields=done.fields,
    )
    return _back(request, done.person_id, purpose, case, done="rectify")


@router.post(
    "/persons/{person_id}/merge",
    dependencies=[page(*STEWARD, scope="region")],
    response_class=RedirectResponse,
    response_model=None,
)
def merge_form(
    request: Request,
    person_id: str,
    session: SessionDep,
    principal: ViewerDep,
    other: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Reason,
    purpose: ActionPurpose,
    case: ActionCase = "",
    lang: Lang = None,
) -> Response:
    """Merge another person into this one, with a reason."""
    same_origin(request)
    answer = merge_persons(session, principal, person_id, other.strip(), reason=reason.strip())
    record_event(
        session,
        _context(request, principal, purpose_text(purpose, case)),
        "person.merge",
        person_ids=[answer.person_id, answer.merged],
    )
    return _back(request, answer.person_id, purpose, case, done="merge")


@router.post(
    "/persons/{person_id}/split",
    dependencies=[page(*STEWARD, scope="region")],
    response_class=RedirectResponse,
    response_model=None,
)
def split_form(
    request: Request,
    person_id: str,
    session: SessionDep,
    principal: ViewerDep,
    reason: Reason,
    purpose: ActionPurpose,
    records: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006 (FastAPI form)
    case: ActionCase = "",
    lang: Lang = None,
) -> Response:
    """Move the ticked source records (programme/source id) to a new person, with a reason."""
    same_origin(request)
    refs = []
    for value in records:
        programme, _, source_id = value.partition("/")
        if not programme or not source_id or len(value) > 240:
            raise InvalidInput("records: each is programme/source_id")
        refs.append({"programme": programme, "source_id": source_id})
    answer = split_person(session, principal, person_id, refs, reason=reason.strip())
    record_event(
        session,
        _context(request, principal, purpose_text(purpose, case)),
        "person.split",
        person_ids=[answer.person_id, answer.new_person_id],
        record_ids=[f"{r['programme']}:{r['source_id']}" for r in refs],
    )
    return _back(request, answer.person_id, purpose, case, done="split", new=answer.new_person_id)
