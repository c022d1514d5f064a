"""A person's identity: history, merge and split (steward; history also oversight)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.service import record_event
from registry.matching.schemas import MergeResult, PersonHistory, SplitResult
from registry.matching.stewardship import merge_persons, person_history, split_person

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])


class MergeIn(BaseModel):
    other: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


class SourceRef(BaseModel):
    programme: str = Field(max_length=32)
    source_id: str = Field(max_length=200)


class SplitIn(BaseModel):
    source_records: list[SourceRef] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=2000)


@router.get(
    "/{person_id}/history",
    response_model=PersonHistory,
    dependencies=[allow("oversight", "steward", scope="region")],
)
def read_history(
    person_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> PersonHistory:
    """Link events, merges, splits and record versions of a person, newest first."""
    history = person_history(session, principal, person_id)
    shown = [p for e in history.events for p in (e.person_id, e.other_person_id) if p]
    record_event(session, audit, "person.history", person_ids=[history.person_id, *shown])
    return history


@router.post(
    "/{person_id}/merge",
    response_model=MergeResult,
    dependencies=[allow("steward", scope="region")],
)
def post_merge(
    person_id: str, body: MergeIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> MergeResult:
    """Merge another person into this one (the other then points here)."""
    answer = merge_persons(session, principal, person_id, body.other, reason=body.reason)
    record_event(session, audit, "person.merge", person_ids=[answer.person_id, answer.merged])
    return answer


@router.post(
    "/{person_id}/split",
    response_model=SplitResult,
    dependencies=[allow("steward", scope="region")],
)
def post_split(
    person_id: str, body: SplitIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> SplitResult:
    """Move some source records to a new person, undoing a wrong link."""
    refs = [r.model_dump() for r in body.source_records]
    answer = split_person(session, principal, person_id, refs, reason=body.reason)
    record_event(
        session,
        audit,
        "person.split",
        person_ids=[answer.person_id, answer.new_person_id],
        record_ids=[f"{r['programme']}:{r['source_id']}" for r in refs],
    )
    return answer
