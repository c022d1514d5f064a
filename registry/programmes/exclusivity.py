"""Programme pairs an admin marks mutually exclusive (a person should not be in both)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from registry.core.errors import InvalidInput
from registry.programmes.models import Programme, ProgrammeExclusion
from registry.programmes.schemas import Exclusions
from registry.programmes.service import get_programme


def _pair(session: Session, code: str, other: str) -> tuple[int, int]:
    """The two programmes' ids, lower first; the same programme twice is refused."""
    if code == other:
        message = "a programme cannot exclude itself"
        raise InvalidInput(
            message, errors=[{"field": "other", "rule": "same_programme", "message": message}]
        )
    a, b = get_programme(session, code).id, get_programme(session, other).id
    return (a, b) if a < b else (b, a)


def mark_exclusive(session: Session, code: str, other: str, created_by: str) -> Exclusions:
    """Mark two programmes mutually exclusive (idempotent); the programme's exclusions."""
    a, b = _pair(session, code, other)
    session.execute(
        insert(ProgrammeExclusion)
        .values(programme_id=a, other_id=b, created_by=created_by)
        .on_conflict_do_nothing()
    )
    return exclusions(session, code)


def unmark_exclusive(session: Session, code: str, other: str) -> Exclusions:
    """Remove a mutual exclusion (idempotent); the programme's remaining exclusions."""
    a, b = _pair(session, code, other)
    session.execute(
        delete(ProgrammeExclusion).where(
            ProgrammeExclusion.programme_id == a, ProgrammeExclusion.other_id == b
        )
    )
    return exclusions(session, code)


def exclusions(session: Session, code: str) -> Exclusions:
    """The programme and the codes of the programmes marked exclusive with it."""
    return Exclusions(programme=code, exclusive_with=exclusive_with(session, code))


def exclusive_with(session: Session, code: str) -> list[str]:
    """Codes of the programmes marked exclusive with this one."""
    me = get_programme(session, code).id
    rows = session.execute(
        select(Programme.code)
        .join(
            ProgrammeExclusion,
            (
                (ProgrammeExclusion.programme_id == me)
                & (ProgrammeExclusion.other_id == Programme.id)
            )
            | (
                (ProgrammeExclusion.other_id == me)
                & (ProgrammeExclusion.programme_id == Programme.id)
            ),
        )
        .order_by(Programme.code)
    ).scalars()
    return list(rows)


def exclusive_pairs(session: Session) -> list[tuple[str, str]]:
    """Every exclusive pair of programme codes, each pair in code order."""
    a, b = Programme.__table__.alias("a"), Programme.__table__.alias("b")
    rows = session.execute(
        select(a.c.code, b.c.code)
        .join(ProgrammeExclusion, ProgrammeExclusion.programme_id == a.c.id)
        .join(b, b.c.id == ProgrammeExclusion.other_id)
    ).all()
    return sorted((min(x, y), max(x, y)) for x, y in rows)
