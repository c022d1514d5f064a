"""Programme feeds: push batches, read stored answers and records (role feed, own programme)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import PrincipalDep, SessionDep, SettingsDep
from registry.access.principal import Principal
from registry.db import with_retries
from registry.errors import Forbidden
from registry.ingest.reads import get_batch_answer, get_record
from registry.ingest.service import ingest_batch
from registry.programmes.models import Programme
from registry.programmes.service import get_programme

router = APIRouter(prefix="/api/v1/programmes/{code}", tags=["feeds"])

CodePath = Path(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$")


class BatchIn(BaseModel):
    batch_id: str = Field(min_length=1, max_length=200)
    records: list[Any] = Field(
        description="Feed records as in API.md; each is validated on its own, so one bad "
        "record never sinks the batch. At most 10,000 (413 above)."
    )


class RecordResult(BaseModel):
    source_id: str | None
    status: str
    person_id: str | None = None
    method: str | None = None
    score: float | None = None
    errors: list[dict[str, str]] | None = None
    warnings: list[dict[str, str]] | None = None


class BatchOut(BaseModel):
    batch_id: str
    received: int
    accepted: int
    rejected: int
    unchanged: int
    results: list[RecordResult]


def _writable_programme(session: Session, principal: Principal, code: str) -> Programme:
    if not principal.may_write_programme(code):
        raise Forbidden(f"this client may not write programme {code!r}")
    return get_programme(session, code)


def _readable_programme(session: Session, principal: Principal, code: str) -> Programme:
    if "feed" in principal.roles and code not in principal.programmes:
        raise Forbidden(f"this client may not read programme {code!r}")
    principal.require("feed")
    return get_programme(session, code)


@router.post("/batches", response_model=BatchOut, response_model_exclude_none=True)
def post_batch(
    body: BatchIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    code: str = CodePath,
) -> JSONResponse:
    """Push a batch of beneficiary records; per-record results, idempotent per batch_id."""
    programme = _writable_programme(session, principal, code)
    outcome = with_retries(
        session,
        lambda: ingest_batch(
            session,
            programme=programme,
            batch_id=body.batch_id,
            records=body.records,
            submitted_by=principal.subject,
            settings=settings,
        ),
    )
    return JSONResponse(outcome.response)


@router.get("/batches/{batch_id}", response_model=BatchOut)
def get_batch(
    batch_id: str, session: SessionDep, principal: PrincipalDep, code: str = CodePath
) -> JSONResponse:
    """The stored answer of a batch this programme sent, exactly as first given."""
    programme = _readable_programme(session, principal, code)
    return JSONResponse(get_batch_answer(session, programme, batch_id))


@router.get("/records/{source_id}")
def get_source_record(
    source_id: str, session: SessionDep, principal: PrincipalDep, code: str = CodePath
) -> dict[str, Any]:
    """A record as held, with every version, its enrolment episodes and its link."""
    return get_record(session, _readable_programme(session, principal, code), source_id)
