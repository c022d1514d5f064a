"""Liveness and readiness probes (public: they say nothing about the data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.authz import public
from registry.core.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"])


class Liveness(BaseModel):
    """The process is up."""

    status: str


class Readiness(BaseModel):
    """The database answers and its schema is at the newest migration."""

    status: str
    database: str
    revision: str | None


class Unready(BaseModel):
    """Why the registry is not ready: the database unreachable, or migrations pending."""

    status: str
    database: str
    reason: str | None = None
    at: str | None = None
    head: str | None = None


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "not ready", "model": Unready}
}


@router.get("/healthz", dependencies=[public()], response_model=Liveness)
def healthz() -> Liveness:
    """The process is up (it does not touch the database)."""
    return Liveness(status="ok")


@router.get("/readyz", dependencies=[public()], response_model=Readiness, responses=_UNAVAILABLE)
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the newest migration; 503 otherwise."""
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 2000"))
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as exc:
        down = {"status": "unavailable", "database": "unreachable", "reason": type(exc).__name__}
        return JSONResponse(down, 503)
    head = head_revision()
    if current != head:
        body: dict[str, str | None] = {
            "status": "unavailable",
            "database": "migrations pending",
            "at": current,
            "head": head,
        }
        return JSONResponse(body, 503)
    return JSONResponse({"status": "ok", "database": "ok", "revision": current})
