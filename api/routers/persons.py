"""Persons: search, golden record and who receives what (roles oversight, steward; in regions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep, SettingsDep
from api.params import ProgrammeCodeQuery
from api.search_rate import limit_searches
from registry.audit.service import record_event
from registry.core.errors import InvalidInput
from registry.matching.store import active_model
from registry.persons.schemas import PersonSearchResult, PersonView
from registry.persons.search import (
    MAX_LIMIT,
    NameQuery,
    SearchFilters,
    parse_birth_date,
    search_by_name,
    search_by_national_id,
)
from registry.persons.service import get_person

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])

#: Why the caller reads persons: required on a search, written to the audit trail.
Purpose = Annotated[
    str,
    Header(
        alias="X-Purpose",
        min_length=3,
        max_length=500,
        description="why the persons are read (case number, task); kept in the audit trail",
    ),
]
RegionQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
NameText = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get(
    "",
    response_model=PersonSearchResult,
    dependencies=[allow("oversight", "steward", scope="region"), Depends(limit_searches)],
)
def search_persons(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    settings: SettingsDep,
    purpose: Purpose,
    national_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    given_name: NameText = None,
    family_name: NameText = None,
    birth_date: Annotated[str | None, Query(max_length=10)] = None,
    sex: Annotated[str | None, Query(pattern=r"^[MFXmfx]$")] = None,
    municipality: RegionQuery = None,
    region: RegionQuery = None,
    programme: ProgrammeCodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> PersonSearchResult:
    """Find persons by national ID (exact), or by names and birth date (ranked, explained).

    Only persons in the caller's regions are ever considered; the audit event names the
    persons answered and what was searched (field names; the national ID's digest only).
    """
    filters = SearchFilters(region=region, programme=programme, limit=limit)
    detail: dict[str, object] = {"region": region, "programme": programme, "limit": limit}
    if national_id is not None:
        if given_name or family_name or birth_date:
            raise InvalidInput(
                "search by national_id or by names and birth date, not both",
                errors=[{"field": "national_id", "message": "not together with name fields"}],
            )
        result, hashed = search_by_national_id(
            session,
            principal,
            national_id,
            scheme=settings.national_id_scheme,
            key=settings.secret("national_id_key").encode(),
            filters=filters,
        )
        detail |= {"by": "national_id", "fields": ["national_id"], "national_id_digest": hashed}
    else:
        query = NameQuery(
            given_name=given_name,
            family_name=family_name,
            birth_date=parse_birth_date(birth_date) if birth_date else None,
            sex=sex.upper() if sex else None,
            municipality=municipality,
        )
        result = search_by_name(
            session,
            principal,
            query,
            model=active_model(session)[1],
            max_block=settings.linkage_max_block,
            filters=filters,
        )
        detail |= {"by": "name", "fields": query.searched_fields()}
    record_event(
        session,
        audit,
        "person.search",
        person_ids=[p.person_id for p in result.persons],
        detail=detail,
    )
    return result


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
