"""Persons: golden record and who receives what (roles oversight, steward; within regions)."""

from __future__ import annotations

from fastapi import APIRouter

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.service import record_event
from registry.persons.schemas import PersonView
from registry.persons.service import get_person

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])


@router.get(
    "/{person_id}",
    response_model=PersonView,
    dependencies=[allow("oversight", "steward", scope="region")],
)
def read_person(
    person_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> PersonView:
    """The person's golden record and every programme's enrolments, current and past."""
    person = get_person(session, principal, person_id)
    record_ids = [f"{p.programme}:{p.source_id}" for p in person.programmes]
    record_event(
        session, audit, "person.read", person_ids=[person.person_id], record_ids=record_ids
    )
    return person
