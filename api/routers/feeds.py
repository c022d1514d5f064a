"""Programme feeds: push batches, read stored answers and records (role feed, own programme)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep, SettingsDep
from api.params import ProgrammeCodePath
from registry.access.principal import Principal
from registry.audit.service import record_event
from registry.core.errors import Forbidden
from registry.ingest.answers import BatchAnswer, get_batch_answer
from registry.programmes.models import Programme
from registry.programmes.service import get_programme
from registry.records.dictionary import record_schema
from registry.records.reads import get_record
from registry.records.schemas import HeldRecord
from registry.submission.flow import (
    FEED_BATCH,
    FEED_DRY_RUN,
    Channel,
    preview_batch,
    submit_batch,
)

router = APIRouter(prefix="/api/v1/programmes/{code}", tags=["feeds"])


class BatchIn(BaseModel):
    batch_id: str = Field(min_length=1, max_length=200)
    # typed for OpenAPI from the field specification, but taken as they come: validation is
    # per record (registry.ingest.validation), so a bad record gets its own errors, never a
    # 422 for the whole batch
    records: list[Any] = Field(
        description="Feed records (FeedRecord: docs/data-dictionary.md); each is validated on "
        "its own, so one bad record never sinks the batch. At most 10,000 (413 above).",
        json_schema_extra={"items": record_schema()},
    )


def _writable_programme(session: Session, principal: Principal, code: str) -> Programme:
    if not principal.may_write_programme(code):
        raise Forbidden(f"this client may not write programme {code!r}")
    return get_programme(session, code)


def _readable_programme(session: Session, principal: Principal, code: str) -> Programme:
    if "feed" in principal.roles and code not in principal.programmes:
        raise Forbidden(f"this client may not read programme {code!r}")
    principal.require("feed")
    return get_programme(session, code)


@router.post(
    "/batches",
    response_model=BatchAnswer,
    dependencies=[allow("feed", scope="programme")],
)
def post_batch(
    body: BatchIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
    dry_run: Annotated[
        bool,
        Query(
            description="A test delivery: validate and preview each record's outcome "
            "(created / linked / review) without keeping anything; the answer carries "
            '"dry_run": true, the batch_id stays free, only an audit event (feed.dry_run) '
            "is written."
        ),
    ] = False,
) -> JSONResponse:
    """Push a batch of beneficiary records; per-record results, idempotent per batch_id."""
    programme = _writable_programme(session, principal, code)
    send = preview_batch if dry_run else submit_batch
    outcome = send(
        session,
        programme=programme,
        batch_id=body.batch_id,
        records=body.records,
        channel=Channel(principal.subject, audit, FEED_DRY_RUN if dry_run else FEED_BATCH),
        settings=settings,
    )
    # the answer as stored: a rejected result carries no link, a linked one a null score
    return JSONResponse(outcome.answer.as_json())


@router.get(
    "/batches/{batch_id}",
    response_model=BatchAnswer,
    dependencies=[allow("feed", scope="programme")],
)
def get_batch(
    batch_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
) -> JSONResponse:
    """The stored answer of a batch this programme sent, exactly as first given."""
    programme = _readable_programme(session, principal, code)
    answer = get_batch_answer(session, programme, batch_id)
    linked = answer.linked()
    record_event(
        session,
        audit,
        "feed.batch.read",
        person_ids=[r.person_id for r in linked if r.person_id],
        record_ids=[f"{code}:{r.source_id}" for r in linked],
        detail={"programme": code, "batch_id": batch_id},
    )
    return JSONResponse(answer.as_json())


@router.get(
    "/records/{source_id}",
    response_model=HeldRecord,
    dependencies=[allow("feed", scope="programme")],
)
def get_source_record(
    source_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
) -> HeldRecord:
    """A record as held, with every version, its enrolment episodes and its link."""
    held = get_record(session, _readable_programme(session, principal, code), source_id)
    record_event(
        session,
        audit,
        "record.read",
        person_ids=[held.person_id],
        record_ids=[f"{code}:{source_id}"],
    )
    return held
