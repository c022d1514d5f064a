"""The reconciliation page: a programme against an uploaded reference extract (oversight).

The form posts the file (multipart, no script) with a purpose; the answer is the API's
(``POST /api/v1/overview/reconciliation``: same service, same region rule, same audit action
``overview.reconciliation``). The page lists at most ``SHOWN`` persons per section and names
in the trail the persons the upload found plus those the page lists; "Compare and download
CSV" answers the whole comparison as CSV instead, naming every person it holds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from api.dashboard.pages.overview import PURPOSES, audit_read, programme_names, send_csv
from api.dashboard.web import (
    Lang,
    ViewerDep,
    new_router,
    page,
    render,
    same_origin,
)
from api.deps import SessionDep, SettingsDep
from registry.access.principal import Principal
from registry.core.errors import PayloadTooLarge
from registry.overview import reconciliation as service
from registry.overview.export import to_csv
from registry.overview.schemas import DifferingPerson, OneSidedPerson, Reconciliation

router = new_router()

#: The upload's size limit (the API's).
MAX_REFERENCE_BYTES = 20 * 1024 * 1024
#: Persons shown per section; the CSV holds them all.
SHOWN = 100


def _form(request: Request, principal: Principal, session: SessionDep, **ctx: Any) -> Response:
    return render(
        request,
        "reconciliation.html",
        principal=principal,
        names=programme_names(session),
        purposes=PURPOSES,
        **ctx,
    )


@router.get(
    "/reconciliation",
    dependencies=[page("oversight")],
    response_class=HTMLResponse,
    response_model=None,
)
def reconciliation_form(
    request: Request, session: SessionDep, principal: ViewerDep, lang: Lang = None
) -> Response:
    """The upload form."""
    return _form(request, principal, session, body=None, chosen={"as_of": date.today().isoformat()})


def _shown(body: Reconciliation) -> dict[str, list[OneSidedPerson | DifferingPerson]]:
    """The persons the page lists: the first SHOWN of each section."""
    return {
        "left_only": [*(body.left_only or [])[:SHOWN]],
        "right_only": [*(body.right_only or [])[:SHOWN]],
        "differing": [*(body.differing or [])[:SHOWN]],
    }


@router.post(
    "/reconciliation",
    dependencies=[page("oversight")],
    response_class=HTMLResponse,
    response_model=None,
)
def reconciliation_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ViewerDep,
    left: Annotated[str, Form(min_length=1, max_length=32)],
    purpose: Annotated[Literal["control", "case", "correction", "supervision"], Form()],
    reference: Annotated[UploadFile, File()],
    as_of: Annotated[date | None, Form()] = None,
    benefit_code: Annotated[str | None, Form(max_length=32)] = None,
    format: Annotated[Literal["html", "csv"], Form()] = "html",
    lang: Lang = None,
) -> Response:
    """Compare the programme with the uploaded extract; show (or download) the answer."""
    same_origin(request)
    content = reference.file.read(MAX_REFERENCE_BYTES + 1)
    if len(content) > MAX_REFERENCE_BYTES:
        raise PayloadTooLarge(f"the reference file is larger than {MAX_REFERENCE_BYTES} bytes")
    rows = service.parse_reference(content)
    day = as_of or date.today()
    code = benefit_code or None
    found = service.reconcile_reference(
        session,
        principal,
        left,
        rows,
        as_of=day,
        benefit_code=code,
        k=settings.suppression_k,
        national_id_scheme=settings.national_id_scheme,
        national_id_key=settings.secret("national_id_key").encode(),
    )
    body = found.body
    shown = _shown(body)
    listed: list[OneSidedPerson | DifferingPerson] = (
        [*(body.left_only or []), *(body.right_only or []), *(body.differing or [])]
        if format == "csv"
        else [p for section in shown.values() for p in section]
    )
    named = sorted({*found.looked_up, *(p.person_id for p in listed)})
    audit_read(
        request,
        session,
        principal,
        "overview.reconciliation",
        {
            "left": left,
            "right": "reference",
            "via": "dashboard",
            "format": format,
            "reference_rows": len(rows),
            "looked_up": len(found.looked_up),
            "not_compared": found.not_compared,
        },
        named,
        purpose,
    )
    if format == "csv":
        return send_csv(request, to_csv("reconciliation", body), f"reconciliation-{left}-{day}.csv")
    chosen = {
        "left": left,
        "as_of": day.isoformat(),
        "benefit_code": code or "",
        "purpose": purpose,
    }
    return _form(request, principal, session, body=body, listed=shown, chosen=chosen, limit=SHOWN)
