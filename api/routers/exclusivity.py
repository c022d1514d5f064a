"""Programme pairs marked mutually exclusive (admin marks; admin, oversight, analyst read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.service import record_event
from registry.programmes import exclusivity

router = APIRouter(prefix="/api/v1/programmes/{code}/exclusive-with", tags=["administration"])

CODE = r"^[A-Z0-9_-]+$"


def _code() -> Any:
    """A programme code path parameter (a fresh one per use: FastAPI binds it to one name)."""
    return Path(min_length=2, max_length=32, pattern=CODE)


@router.get("", dependencies=[allow("admin", "oversight", "analyst")])
def read_exclusions(session: SessionDep, code: str = _code()) -> dict[str, Any]:
    """The programmes marked mutually exclusive with this one."""
    return {"programme": code, "exclusive_with": exclusivity.exclusive_with(session, code)}


@router.put("/{other}", dependencies=[allow("admin")])
def put_exclusion(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: str = _code(),
    other: str = _code(),
) -> dict[str, Any]:
    """Mark two programmes mutually exclusive (idempotent)."""
    record_event(session, audit, "programme.exclusive", detail={"programmes": [code, other]})
    codes = exclusivity.mark_exclusive(session, code, other, principal.subject)
    return {"programme": code, "exclusive_with": codes}


@router.delete("/{other}", dependencies=[allow("admin")])
def delete_exclusion(
    session: SessionDep, audit: AuditDep, code: str = _code(), other: str = _code()
) -> dict[str, Any]:
    """Remove a mutual exclusion (idempotent)."""
    record_event(session, audit, "programme.unexclusive", detail={"programmes": [code, other]})
    return {"programme": code, "exclusive_with": exclusivity.unmark_exclusive(session, code, other)}
