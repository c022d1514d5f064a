"""Drill-down: one page of the persons behind one duplicates finding (oversight only).

The finding is a programme's double enrolments, or an exclusive pair; the persons are those
the duplicates answer lists for the caller (within the caller's regions), in person-id order,
cut into pages. The caller audits exactly the persons of the page returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import InvalidInput
from registry.overview.duplicates import duplicates
from registry.overview.schemas import DuplicatePerson

KINDS = ("double", "exclusive")
#: Persons per page, and the most a caller may ask for.
PER_PAGE = 25
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class DuplicateList:
    """One page of the persons behind a finding, and how many there are in the caller's regions."""

    as_of: str
    kind: str
    programmes: list[str]
    persons: list[DuplicatePerson]
    total: int
    page: int
    pages: int
    per_page: int


def duplicate_persons(
    session: Session,
    principal: Principal,
    as_of: date,
    kind: str,
    programmes: list[str],
    page: int = 1,
    per_page: int = PER_PAGE,
) -> DuplicateList:
    """One page of the persons behind one finding (a programme's doubles, or an exclusive pair)."""
    principal.require("oversight")
    if kind not in KINDS:
        raise _invalid("kind", f"must be one of {', '.join(KINDS)}")
    wanted = sorted(set(programmes))
    if len(wanted) != (1 if kind == "double" else 2):
        raise _invalid(
            "programme", "name one programme for double, two different ones for exclusive"
        )
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise _invalid("per_page", f"must be between 1 and {MAX_PER_PAGE}")
    if page < 1:
        raise _invalid("page", "must be 1 or more")
    found = duplicates(session, principal, as_of, programme=wanted[0])
    listed = (
        found.double_enrolments.persons if kind == "double" else found.exclusive.persons
    ) or []
    persons = sorted(
        (p for p in listed if sorted(p.programmes) == wanted), key=lambda p: p.person_id
    )
    pages = max(1, -(-len(persons) // per_page))
    if page > pages:
        raise _invalid("page", f"there are {pages} pages")
    start = (page - 1) * per_page
    return DuplicateList(
        as_of=as_of.isoformat(),
        kind=kind,
        programmes=wanted,
        persons=persons[start : start + per_page],
        total=len(persons),
        page=page,
        pages=pages,
        per_page=per_page,
    )


def _invalid(field: str, rule: str) -> InvalidInput:
    return InvalidInput(
        f"invalid `{field}`: {rule}",
        errors=[{"field": field, "code": "invalid", "message": rule}],
    )
