"""Programmes: create, edit (with history), list, look up."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.codelists.book import code_book
from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.programmes.codes import check_programme_code
from registry.programmes.models import Programme, ProgrammeVersion
from registry.programmes.schemas import ProgrammeChange, ProgrammeState


def create_programme(
    session: Session,
    *,
    code: str,
    name: str,
    agency: str | None,
    benefit_codes_allowed: list[str],
    trust_rank: int = 0,
    created_by: str = "registry",
) -> Programme:
    """Register a programme with the benefit codes it may grant (L402's or its own lists')."""
    check_programme_code(code)
    _check_text("name", name, required=True)
    _check_text("agency", agency or "", required=False)
    _check_trust_rank(trust_rank)
    _check_benefit_codes(session, code, benefit_codes_allowed)
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
    _keep_version(session, programme, 1, created_by)
    return programme


def update_programme(
    session: Session, code: str, change: ProgrammeChange, *, changed_by: str
) -> Programme:
    """Change a programme's name, agency, benefit codes or trust rank; the change is kept."""
    programme = session.scalars(
        select(Programme).where(Programme.code == code).with_for_update()
    ).one_or_none()
    if programme is None:
        raise NotFound(f"programme {code!r} does not exist")
    if change.name is not None:
        _check_text("name", change.name, required=True)
        programme.name = change.name
    if change.agency is not None:
        _check_text("agency", change.agency, required=False)
        programme.agency = change.agency.strip() or None
    if change.benefit_codes is not None:
        _check_benefit_codes(session, code, change.benefit_codes)
        programme.benefit_codes = sorted(set(change.benefit_codes))
    if change.trust_rank is not None:
        _check_trust_rank(change.trust_rank)
        programme.trust_rank = change.trust_rank
    session.flush()
    latest = session.scalar(
        select(func.max(ProgrammeVersion.version)).where(
            ProgrammeVersion.programme_id == programme.id
        )
    )
    _keep_version(session, programme, (latest or 0) + 1, changed_by)
    return programme


def programme_history(session: Session, code: str) -> list[ProgrammeState]:
    """The programme as it was after each change, oldest first."""
    programme = get_programme(session, code)
    versions = session.scalars(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.programme_id == programme.id)
        .order_by(ProgrammeVersion.version)
    ).all()
    return [
        ProgrammeState(
            version=v.version,
            name=v.name,
            agency=v.agency,
            benefit_codes=list(v.benefit_codes),
            trust_rank=v.trust_rank,
            changed_by=v.changed_by,
            changed_at=v.changed_at,
        )
        for v in versions
    ]


def _keep_version(session: Session, programme: Programme, version: int, by: str) -> None:
    session.add(
        ProgrammeVersion(
            programme_id=programme.id,
            version=version,
            name=programme.name,
            agency=programme.agency,
            benefit_codes=list(programme.benefit_codes),
            trust_rank=programme.trust_rank,
            changed_by=by,
        )
    )
    session.flush()


def _check_trust_rank(trust_rank: int) -> None:
    if not 0 <= trust_rank <= MAX_TRUST_RANK:
        raise _refused("trust_rank", "range", f"trust_rank must be 0-{MAX_TRUST_RANK}")


def _check_benefit_codes(session: Session, programme: str, codes: list[str]) -> None:
    """Every code is in a benefit list of the registry (L402) or of this programme's own."""
    known = code_book(session).for_programme(programme).benefits
    unknown = sorted(c for c in set(codes) if not known.known(c))
    if not codes or unknown or len(codes) > MAX_BENEFIT_CODES:
        raise _refused(
            "benefit_codes",
            "benefit_codes",
            "benefit_codes must be a non-empty list of L402 codes or codes of the "
            "programme's own benefit lists"
            + (f"; unknown: {', '.join(unknown[:20])}" if unknown else ""),
        )


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
