"""One error shape for every answer: {"error": kind, "detail": sentence, "errors"?: [...]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security_headers import DEFAULT_HEADERS
from registry.core.errors import RegistryError

logger = logging.getLogger(__name__)

_HTTP_KINDS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    414: "URITooLong",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}

#: SQLSTATE query_canceled: a statement ran past its statement_timeout (heavy reads have one).
_QUERY_CANCELED = "57014"
#: Seconds a caller is told to wait when no database connection was free.
BUSY_RETRY_AFTER = 2


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


def _json_error(error: dict[str, Any]) -> dict[str, Any]:
    """A malformed body names the body and where the JSON parser stopped."""
    location = tuple(error.get("loc", ()))
    position = location[-1] if len(location) > 1 else "?"
    reason = (error.get("ctx") or {}).get("error", "not valid JSON")
    return {
        "field": "body",
        "code": "json_invalid",
        "message": f"the body is not valid JSON: {reason} at character {position}",
    }


#: The one error document, as published in /openapi.json for every operation.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "title": "Error kind"},
        "detail": {"type": "string", "title": "Detail"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def publish_error_schema(app: FastAPI) -> None:
    """Make /openapi.json tell the truth about errors: every operation may answer the shape.

    FastAPI documents 422 as its own `HTTPValidationError` (a list under `detail`); ours is
    `{"error", "detail", "errors"}`. Every operation also gets a `default` response with that
    shape, so 401/403/404/409/413/503 are documented wherever they can happen.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        error_response = {
            "description": "Error: the one error shape",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("default", error_response)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the one error shape."""
    publish_error_schema(app)

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
            if e.get("type") != "json_invalid"
            else _json_error(e)
            for e in exc.errors()
        ]
        return JSONResponse(error_body("ValidationError", "the request is not valid", errors), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _HTTP_KINDS.get(exc.status_code, "Error")
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code, exc.headers)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        # every pooled connection stayed busy for REGISTRY_DB_POOL_TIMEOUT_SECONDS: saturation
        logger.warning("no database connection free in time: %s", type(exc).__name__)
        return JSONResponse(
            error_body("ServiceUnavailable", "the registry is busy; retry later"),
            503,
            headers={"Retry-After": str(BUSY_RETRY_AFTER)},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_down(_: Request, exc: DBAPIError) -> JSONResponse:
        if getattr(exc.orig, "pgcode", None) == _QUERY_CANCELED:
            logger.warning("statement cancelled: it ran past its statement_timeout")
            return JSONResponse(
                error_body(
                    "ServiceUnavailable",
                    "the query took longer than the registry allows; narrow it or retry later",
                ),
                503,
                headers={"Retry-After": "30"},
            )
        logger.error("database unavailable: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("ServiceUnavailable", "the database is not reachable; retry later"),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DataError)
    async def unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # SQLSTATE class 22 (data exception): a value the database refuses, from the request
        code = getattr(exc.orig, "pgcode", None)
        logger.warning("database refused a value: SQLSTATE %s", code)
        return JSONResponse(
            error_body("ValidationError", "a value in the request cannot be stored"), 422
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await database_down(request, exc)
        logger.error(
            "database error: %s (SQLSTATE %s)",
            type(exc.orig).__name__,
            getattr(exc.orig, "pgcode", None),
        )
        return JSONResponse(error_body("InternalError", "an unexpected error occurred"), 500)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error: %s", type(exc).__name__)
        # sent from outside the middleware stack: it carries the security headers itself
        return JSONResponse(
            error_body("InternalError", "an unexpected error occurred"), 500, DEFAULT_HEADERS
        )
