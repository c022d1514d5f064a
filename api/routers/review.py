"""Linkage review queue and links export (role steward; export also admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.manifest import record_naming
from registry.audit.reads import decision_sides, exported_persons
from registry.audit.service import record_event
from registry.matching.schemas import ReviewDecision, ReviewPage
from registry.matching.stewardship import decide_review, export_links, list_reviews

router = APIRouter(prefix="/api/v1", tags=["linkage review"])


class DecisionIn(BaseModel):
    decision: Literal["match", "non_match"]
    note: str | None = Field(default=None, max_length=2000)


@router.get("/review", response_model=ReviewPage, dependencies=[allow("steward", scope="region")])
def read_review_queue(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    status: Literal["pending", "match", "non_match", "superseded"] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> ReviewPage:
    """Candidate pairs with score, per-field comparison and weights (oldest first)."""
    page = list_reviews(session, principal, status=status, limit=limit, after=cursor)
    records = [
        f"{side.programme}:{side.source_id}"
        for item in page.items
        for side in (item.record, item.candidate)
        if side.source_id
    ]
    persons = [side.person_id for item in page.items for side in (item.record, item.candidate)]
    record_event(session, audit, "review.read", person_ids=persons, record_ids=records)
    return page


@router.post(
    "/review/{review_id}/decision",
    response_model=ReviewDecision,
    dependencies=[allow("steward", scope="region")],
)
def post_review_decision(
    review_id: int,
    body: DecisionIn,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> ReviewDecision:
    """Settle a review item: match (join the person) or non_match (never proposed again)."""
    answer = decide_review(session, principal, review_id, decision=body.decision, note=body.note)
    sides = decision_sides(session, review_id, answer.person_id)
    record_event(
        session,
        audit,
        "review.decision",
        person_ids=sides.person_ids,
        record_ids=sides.record_ids,
        detail={"review_id": review_id, "decision": body.decision},
    )
    return answer


@router.get(
    "/links/export",
    response_class=StreamingResponse,
    response_model=None,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[allow("steward", "admin", scope="region")],
)
def get_links_export(
    session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> StreamingResponse:
    """CSV programme,source_id,person_id,method,score of every live source record."""
    lines = list(export_links(session, principal))
    record_naming(
        session,
        audit,
        "links.export",
        person_ids=exported_persons(lines),
        detail={"chunks": len(lines)},
        inline_limit=0,
    )
    return StreamingResponse(
        iter(lines),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="links.csv"'},
    )
