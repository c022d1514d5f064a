"""Linkage review queue and links export (role steward; export also admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.audit.manifest import record_naming
from registry.audit.reads import exported_persons
from registry.audit.service import record_event
from registry.matching.review_queue import (
    MAX_AGE_DAYS,
    item_records,
    list_reviews,
    persons_shown,
    records_shown,
    review_item,
)
from registry.matching.schemas import (
    ReviewDecision,
    ReviewFilter,
    ReviewItem,
    ReviewPage,
    ReviewReason,
    ReviewStatus,
)
from registry.matching.stewardship import NOTE_MAX, decide_review, export_links
from registry.programmes.codes import PROGRAMME_CODE_PATTERN

router = APIRouter(prefix="/api/v1", tags=["linkage review"])


class DecisionIn(BaseModel):
    decision: Literal["match", "non_match"]
    note: str | None = Field(default=None, max_length=NOTE_MAX)


Programme = Annotated[str | None, Query(pattern=PROGRAMME_CODE_PATTERN)]
MinAgeDays = Annotated[int, Query(ge=0, le=MAX_AGE_DAYS)]


@router.get("/review", response_model=ReviewPage, dependencies=[allow("steward", scope="region")])
def read_review_queue(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    status: ReviewStatus = "pending",
    reason: ReviewReason | None = None,
    programme: Programme = None,
    min_age_days: MinAgeDays = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> ReviewPage:
    """Candidate pairs with score, per-field comparison and weights (oldest first)."""
    filters = ReviewFilter(status, reason, programme, min_age_days)
    page = list_reviews(session, principal, filters, limit=limit, after=cursor)
    record_event(
        session,
        audit,
        "review.read",
        person_ids=persons_shown(page.items),
        record_ids=records_shown(page.items),
    )
    return page


@router.get(
    "/review/{review_id}",
    response_model=ReviewItem,
    dependencies=[allow("steward", scope="region")],
)
def read_review_item(
    review_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    reason: ReviewReason | None = None,
    programme: Programme = None,
    min_age_days: MinAgeDays = 0,
) -> ReviewItem:
    """One item with each person's other records, and the next pending item of the filter."""
    found = review_item(
        session, principal, review_id, ReviewFilter("pending", reason, programme, min_age_days)
    )
    record_event(
        session,
        audit,
        "review.read",
        person_ids=persons_shown([found.item]),
        record_ids=item_records(found),
        detail={"review_id": review_id},
    )
    return found


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
    return decide_review(
        session, principal, review_id, decision=body.decision, note=body.note, audit=audit
    )


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
