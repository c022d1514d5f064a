"""Persons: golden record and who receives what (roles oversight, steward; within regions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import PrincipalDep, SessionDep
from registry.persons.service import get_person

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])


@router.get("/{person_id}")
def read_person(person_id: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The person's golden record and every programme's enrolments, current and past."""
    return get_person(session, principal, person_id)
