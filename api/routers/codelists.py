"""Code lists: read by every signed-in role; loaded (JSON or a CSV upload) by admins, audited.

A feed client sees the registry's lists and its own programme's; a list owned by another
programme answers 404 as if absent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.authz import ANY_ROLE, allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.access.principal import Principal
from registry.audit.service import AuditContext, record_event
from registry.codelists.entries import (
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_CODE,
    MAX_CSV_BYTES,
    MAX_DESCRIPTION,
    MAX_ENTRIES,
    NAME_PATTERN,
    OWNER_PATTERN,
    entries_from_csv,
)
from registry.codelists.schemas import CodeListSummary, CodeListView
from registry.codelists.service import list_lists, load_list, read_list
from registry.core.errors import PayloadTooLarge
from registry.records.fields import STATUSES

router = APIRouter(prefix="/api/v1/codelists", tags=["code lists"])

Kind = Literal["benefit", "target_group", "region", "municipality", "status_map"]
ListName = Annotated[str, Path(pattern=NAME_PATTERN)]
Attribute = Annotated[str, Field(max_length=MAX_ATTRIBUTE_VALUE)]


class EntryBody(BaseModel):
    """One code: `attributes` are texts (a benefit's `paragraph`, a status word's `status`)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=MAX_CODE)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    attributes: dict[str, Attribute] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    valid_from: date | None = None
    valid_to: date | None = None


class CodeListIn(BaseModel):
    """A list to load: a new list, or the next version of one (same kind and owner)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    kind: Kind
    owner: str | None = Field(default=None, pattern=OWNER_PATTERN)
    entries: list[EntryBody] = Field(min_length=1, max_length=MAX_ENTRIES)


def _owners(principal: Principal) -> set[str] | None:
    """The owners whose lists the caller may see besides the registry's: None for all."""
    return set(principal.programmes) if principal.is_client else None


@router.get("", response_model=list[CodeListSummary], dependencies=[allow(*ANY_ROLE)])
def get_code_lists(session: SessionDep, principal: PrincipalDep) -> list[CodeListSummary]:
    """Every code list with its current version."""
    return list_lists(session, _owners(principal))


@router.get("/{name}", response_model=CodeListView, dependencies=[allow(*ANY_ROLE)])
def get_code_list(
    name: ListName,
    session: SessionDep,
    principal: PrincipalDep,
    as_of: date | None = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> CodeListView:
    """One list's entries: the current version unless `version`; only those valid on `as_of`."""
    return read_list(session, name, version=version, as_of=as_of, owners=_owners(principal))


def _load(
    session: Session,
    audit: AuditContext,
    principal: Principal,
    *,
    name: str,
    kind: str,
    owner: str | None,
    entries: object,
    source: str,
) -> CodeListSummary:
    principal.require("admin")
    summary = load_list(
        session,
        name=name,
        kind=kind,
        owner=owner,
        entries=entries,
        statuses=STATUSES,
        source=source,
        loaded_by=principal.subject,
    )
    record_event(
        session,
        audit,
        "codelist.load",
        detail={
            "list": summary.name,
            "kind": summary.kind,
            "owner": summary.owner,
            "version": summary.version,
            "entries": summary.entries,
            "source": source,
        },
    )
    return summary


@router.post("", status_code=201, response_model=CodeListSummary, dependencies=[allow("admin")])
def post_code_list(
    body: CodeListIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> CodeListSummary:
    """Load a list from JSON: loading a name again makes its next version."""
    entries = [e.model_dump(mode="json") for e in body.entries]
    return _load(
        session,
        audit,
        principal,
        name=body.name,
        kind=body.kind,
        owner=body.owner,
        entries=entries,
        source="api",
    )


@router.post(
    "/upload", status_code=201, response_model=CodeListSummary, dependencies=[allow("admin")]
)
def post_code_list_file(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    file: Annotated[UploadFile, File(description="CSV: code, description, valid_from, …")],
    name: Annotated[str, Form(pattern=NAME_PATTERN)],
    kind: Annotated[Kind, Form()],
    owner: Annotated[str | None, Form(pattern=OWNER_PATTERN)] = None,
) -> CodeListSummary:
    """Load a list from a CSV file: columns code, description, valid_from, valid_to; any other
    column is an attribute (`paragraph`; a status map's `status`)."""
    principal.require("admin")
    data = file.file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(
            f"a code-list file has at most {MAX_CSV_BYTES} bytes",
            errors=[{"field": "file", "rule": "max_bytes", "message": "file too large"}],
        )
    return _load(
        session,
        audit,
        principal,
        name=name,
        kind=kind,
        owner=owner or None,
        entries=entries_from_csv(data),
        source=(file.filename or "upload.csv")[:200],
    )
