"""Data-subject rights: subject access export and rectification (steward, within regions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.service import record_event, record_identity_decision
from registry.persons.scope import person_in_scope
from registry.subject.schemas import SubjectAccess
from registry.subject.service import rectify, subject_access

router = APIRouter(prefix="/api/v1/persons", tags=["data-subject rights"])


class RectifyIn(BaseModel):
    """Corrected golden-record values and why; the old values are kept."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any] = Field(
        description="any of given_name, family_name, birth_date, sex, municipality, mother_name",
        max_length=6,
    )
    reason: str = Field(min_length=1, max_length=2000)


class RectifiedOut(BaseModel):
    """The person corrected and the fields that changed."""

    person_id: str
    rectified: list[str]


@router.get(
    "/{person_id}/subject-access",
    dependencies=[allow("steward", scope="region")],
    response_model=SubjectAccess,
)
def get_subject_access(
    person_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> SubjectAccess:
    """Everything held on a person as one export: data, sources, enrolments, who accessed it."""
    export = subject_access(session, principal, person_id)
    record_event(
        session,
        audit,
        "person.subject_access",
        person_ids=[export.person.person_id],
        record_ids=[f"{r.programme}:{r.source_id}" for r in export.source_records],
    )
    return export


@router.post(
    "/{person_id}/rectify",
    dependencies=[allow("steward", scope="region")],
    response_model=RectifiedOut,
)
def post_rectify(
    person_id: str,
    body: RectifyIn,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> RectifiedOut:
    """Correct golden-record fields as a steward; audited, and every old value kept."""
    person_in_scope(session, principal, person_id)  # a live person in scope: else 404
    done = rectify(session, principal, person_id, body.fields, body.reason, audit.request_id)
    record_identity_decision(
        session,
        audit,
        "person.rectify",
        person_ids=[done.person_id],
        record_ids=done.record_ids,
        fields=done.fields,
    )
    return RectifiedOut(person_id=done.person_id, rectified=done.fields)
