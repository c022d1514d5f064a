"""One error shape for every answer: {"error": kind, "detail": sentence, "errors"?: [...]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import RegistryError

logger = logging.getLogger(__name__)

_HTTP_KINDS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    503: "ServiceUnavailable",
}


def error_body(
    kind: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The error document every failure answers with."""
    body: dict[str, Any] = {"error": kind, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the one error shape."""

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            error_body(exc.kind, exc.detail, exc.errors), exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field_path(tuple(e.get("loc", ()))),
                "code": e.get("type", "invalid"),
                "message": e.get("msg", "invalid value"),
            }
            for e in exc.errors()
        ]
        return JSONResponse(error_body("ValidationError", "the request is not valid", errors), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _HTTP_KINDS.get(exc.status_code, "Error")
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        logger.error("database unavailable: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("ServiceUnavailable", "the database is not reachable; retry later"), 503
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error: %s", type(exc).__name__)
        return JSONResponse(error_body("InternalError", "an unexpected error occurred"), 500)
