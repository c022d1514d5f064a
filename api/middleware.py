"""Request plumbing: request ids, access logs and metrics, body and URL limits, text guards.

Two pure ASGI middlewares (no body buffering, so a 10,000-record batch streams through):

* :class:`RequestContextMiddleware` (outermost) gives every request an id (a sane
  ``X-Request-ID`` from the caller, else a fresh one), puts it into the request headers (so the
  audit trail records the same id) and into the response, refuses over-long URLs with 414,
  and after the answer writes one JSON access-log line and the request metrics. It logs the
  route *template* (``/api/v1/persons/{person_id}``), never the path or the query string,
  which can carry national IDs and names.
* :class:`BodyLimitMiddleware` answers 413 from ``Content-Length`` alone, and for chunked
  bodies stops reading as soon as the limit is passed.

:func:`guard_request` is an app-wide dependency: a query parameter the operation does not
declare is a 422 naming it (a typo such as ``?national_Id=`` must not silently widen a
search); and since PostgreSQL refuses NUL (``\\u0000``) in text and jsonb, and a lone UTF-16
surrogate cannot be encoded at all, a string holding either is a 422 naming the field, before
any work starts.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.core.errors import InvalidInput
from registry.core.logging import request_id_var
from registry.core.metrics import observe_request

access_log = logging.getLogger("registry.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: JSON escapes that decode to a string PostgreSQL cannot store: NUL, or a UTF-16 surrogate.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _error(kind: str, detail: str) -> bytes:
    return json.dumps({"error": kind, "detail": detail}).encode()


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """The request body passed the configured limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Answer 413 for bodies over ``max_bytes`` without reading more than the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, _error("BadRequest", "invalid Content-Length"), [])
                return
            if int(declared) > self.max_bytes:
                detail = f"the request body is larger than {self.max_bytes} bytes"
                await _answer(
                    send, 413, _error("PayloadTooLarge", detail), [(b"connection", b"close")]
                )
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(
                send, 413, _error("PayloadTooLarge", str(exc.detail)), [(b"connection", b"close")]
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


class RequestContextMiddleware:
    """Request id, URL limit, one access-log line and the request metrics per request."""

    def __init__(self, app: ASGIApp, max_url_bytes: int) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-request-id")
        request_id = offered if offered and _REQUEST_ID.match(offered) else uuid.uuid4().hex
        headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"x-request-id"]
        scope = {**scope, "headers": [*headers, (b"x-request-id", request_id.encode())]}
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", ()),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        try:
            url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            if url_bytes > self.max_url_bytes:
                detail = f"the URL is longer than {self.max_url_bytes} bytes"
                await _answer(send_with_id, 414, _error("URITooLong", detail), [])
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            observe_request(scope["method"], route, status, seconds)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    """The matched route's path template; never the raw path (it may hold personal data)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"


async def guard_request(request: Request) -> None:
    """422 naming the parameter for unknown query parameters and for unstorable text."""
    _reject_unknown_query_parameters(request)
    await _reject_unstorable_text(request)


def _declared_query_parameters(route: Any) -> frozenset[str]:
    """The query parameter names (aliases) a route declares, its dependencies' included."""
    cached: frozenset[str] | None = getattr(route, "_registry_query_names", None)
    if cached is None:
        names: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            names.update(param.alias for param in dependant.query_params)
            pending.extend(dependant.dependencies)
        cached = frozenset(names)
        route._registry_query_names = cached
    return cached


def _reject_unknown_query_parameters(request: Request) -> None:
    """A query parameter the route does not declare is a typo or a probe: name it, refuse it."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant") or not request.query_params:
        return
    declared = _declared_query_parameters(route)
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {_printable(unknown[0])!r}",
            errors=[
                {
                    "field": _printable(name),
                    "code": "unknown_parameter",
                    "message": "this operation takes no such query parameter",
                }
                for name in unknown[:20]
            ],
        )


async def _reject_unstorable_text(request: Request) -> None:
    """422 naming the field when a path, query, form or JSON string holds NUL or a surrogate."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and _unstorable(value):
            raise _bad_text(name)
    for name, value in request.query_params.multi_items():
        if _unstorable(name) or _unstorable(value):
            raise _bad_text(name)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        body = await request.body()
        if not _SUSPECT_ESCAPE.search(body):
            return
        try:
            document = json.loads(body)
        except ValueError:
            return  # FastAPI has answered a malformed body already
        for field in _bad_strings(document):
            raise _bad_text(field)
    elif "form" in content_type:
        form = await request.form()
        for name, value in form.multi_items():
            if _unstorable(name) or (isinstance(value, str) and _unstorable(value)):
                raise _bad_text(name)


def _unstorable(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_strings(document: Any) -> Iterator[str]:
    """Dotted paths of the strings (keys or values) in a JSON document that cannot be stored."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:  # iterative: a deeply nested document must not exhaust the Python stack
        node, path = stack.pop()
        if isinstance(node, str):
            if _unstorable(node):
                yield ".".join(path) or "body"
        elif isinstance(node, dict):
            for key, value in reversed(list(node.items())):
                if _unstorable(key):
                    yield ".".join((*path, _printable(key)))
                stack.append((value, (*path, _printable(key))))
        elif isinstance(node, list):
            stack.extend((value, (*path, str(i))) for i, value in reversed(list(enumerate(node))))


def _printable(key: str) -> str:
    return key.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode()[:100]


def _bad_text(field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} contains characters that cannot be stored (NUL or an unpaired surrogate)",
        errors=[
            {
                "field": field,
                "code": "invalid_characters",
                "message": "text may not contain NUL (\\u0000) or unpaired surrogates",
            }
        ],
    )
