"""Programme pairs marked mutually exclusive (admin marks; admin, oversight, analyst read)."""

from __future__ import annotations

from fastapi import APIRouter

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from api.params import ProgrammeCodePath
from registry.audit.service import record_event
from registry.programmes import exclusivity
from registry.programmes.schemas import Exclusions

router = APIRouter(prefix="/api/v1/programmes/{code}/exclusive-with", tags=["administration"])


@router.get("", dependencies=[allow("admin", "oversight", "analyst")], response_model=Exclusions)
def read_exclusions(session: SessionDep, code: ProgrammeCodePath) -> Exclusions:
    """The programmes marked mutually exclusive with this one."""
    return exclusivity.exclusions(session, code)


@router.put("/{other}", dependencies=[allow("admin")], response_model=Exclusions)
def put_exclusion(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
    other: ProgrammeCodePath,
) -> Exclusions:
    """Mark two programmes mutually exclusive (idempotent)."""
    record_event(session, audit, "programme.exclusive", detail={"programmes": [code, other]})
    return exclusivity.mark_exclusive(session, code, other, principal.subject)


@router.delete("/{other}", dependencies=[allow("admin")], response_model=Exclusions)
def delete_exclusion(
    session: SessionDep, audit: AuditDep, code: ProgrammeCodePath, other: ProgrammeCodePath
) -> Exclusions:
    """Remove a mutual exclusion (idempotent)."""
    record_event(session, audit, "programme.unexclusive", detail={"programmes": [code, other]})
    return exclusivity.unmark_exclusive(session, code, other)
