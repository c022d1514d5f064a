"""Programme pairs marked mutually exclusive (admin marks; admin, oversight, analyst read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from api.params import ProgrammeCodePath
from registry.audit.service import record_event
from registry.programmes import exclusivity

router = APIRouter(prefix="/api/v1/programmes/{code}/exclusive-with", tags=["administration"])


@router.get("", dependencies=[allow("admin", "oversight", "analyst")])
def read_exclusions(session: SessionDep, code: ProgrammeCodePath) -> dict[str, Any]:
    """The programmes marked mutually exclusive with this one."""
    return {"programme": code, "exclusive_with": exclusivity.exclusive_with(session, code)}


@router.put("/{other}", dependencies=[allow("admin")])
def put_exclusion(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
    other: ProgrammeCodePath,
) -> dict[str, Any]:
    """Mark two programmes mutually exclusive (idempotent)."""
    record_event(session, audit, "programme.exclusive", detail={"programmes": [code, other]})
    codes = exclusivity.mark_exclusive(session, code, other, principal.subject)
    return {"programme": code, "exclusive_with": codes}


@router.delete("/{other}", dependencies=[allow("admin")])
def delete_exclusion(
    session: SessionDep, audit: AuditDep, code: ProgrammeCodePath, other: ProgrammeCodePath
) -> dict[str, Any]:
    """Remove a mutual exclusion (idempotent)."""
    record_event(session, audit, "programme.unexclusive", detail={"programmes": [code, other]})
    return {"programme": code, "exclusive_with": exclusivity.unmark_exclusive(session, code, other)}
