"""Programmes: create, list, look up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.codelists.loader import benefit_codes
from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.programmes.codes import check_programme_code
from registry.programmes.models import Programme


def create_programme(
    session: Session,
    *,
    code: str,
    name: str,
    agency: str | None,
    benefit_codes_allowed: list[str],
    trust_rank: int = 0,
) -> Programme:
    """Register a programme with the L402 benefit codes it may grant."""
    check_programme_code(code)
    _check_text("name", name, required=True)
    _check_text("agency", agency or "", required=False)
    if not 0 <= trust_rank <= MAX_TRUST_RANK:
        raise _refused("trust_rank", "range", f"trust_rank must be 0-{MAX_TRUST_RANK}")
    unknown = sorted(set(benefit_codes_allowed) - set(benefit_codes()))
    if not benefit_codes_allowed or unknown or len(benefit_codes_allowed) > MAX_BENEFIT_CODES:
        raise _refused(
            "benefit_codes",
            "benefit_codes",
            "benefit_codes must be a non-empty list of L402 codes"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
        )
    programme = Programme(
        code=code,
        name=name,
        agency=agency,
        benefit_codes=sorted(set(benefit_codes_allowed)),
        trust_rank=trust_rank,
    )
    session.add(programme)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"programme {code!r} already exists",
            errors=[{"field": "code", "rule": "exists", "message": "already exists"}],
        ) from exc
    return programme


#: Longest programme name or agency; most benefit codes; highest trust rank.
MAX_TEXT = 200
MAX_BENEFIT_CODES = 100
MAX_TRUST_RANK = 100


def _refused(field: str, rule: str, message: str) -> InvalidInput:
    """A refusal naming the field and the rule it broke (a form translates the rule)."""
    return InvalidInput(message, errors=[{"field": field, "rule": rule, "message": message}])


def _check_text(field: str, value: str, *, required: bool) -> None:
    if required and not value.strip():
        raise _refused(field, "required", f"{field} is required")
    if len(value) > MAX_TEXT:
        raise _refused(field, "max_length", f"{field} must have at most {MAX_TEXT} characters")


def list_programmes(session: Session) -> list[Programme]:
    """Every programme, by code."""
    return list(session.scalars(select(Programme).order_by(Programme.code)))


def get_programme(session: Session, code: str) -> Programme:
    """One programme by code, or NotFound."""
    programme = session.scalars(select(Programme).where(Programme.code == code)).one_or_none()
    if programme is None:
        raise NotFound(f"programme {code!r} does not exist")
    return programme
