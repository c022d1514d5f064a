"""Heavy reads: a share per principal, a ceiling for the registry, and a statement timeout.

Registry-wide reads (the overview, the audit listing and chain check, the links export,
quality reports, the dashboard's overview pages) each hold a database connection for as long
as their query runs. Unlimited, one user's sixty concurrent reads take the whole pool, and a
feed push, a sign-in or a person read then waits for a connection and fails.

:class:`HeavyReadLimitMiddleware` (pure ASGI, innermost) counts the heavy reads in flight
before any database work starts, over all the worker processes of the registry (slots are
lock files, `api/slots.py`):

* a principal (the verified ``sub`` of the bearer token or of the dashboard cookie) with
  ``REGISTRY_HEAVY_READS_PER_PRINCIPAL`` reads running gets **429** with ``Retry-After``:
  it is that caller's own concurrency, the registry is serving everyone else;
* a registry with ``REGISTRY_HEAVY_READS_MAX`` reads running (never more than
  ``REGISTRY_DB_POOL_SIZE``, half of one worker's connections) answers **503** with
  ``Retry-After``: the registry is busy, and the rest of the pool and of the CPU stays free for
  feeds, sign-ins and reads of single persons.

A request without a valid token is not counted (it is refused with 401 before any query).
``Retry-After`` is the recent mean duration of a heavy read, rounded up.

Every admitted heavy read's transactions run with ``SET LOCAL statement_timeout``
(``REGISTRY_HEAVY_READ_TIMEOUT_SECONDS``; a cancelled statement answers 503), so a runaway
query cannot hold its connection for ever.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from api.dashboard.web import COOKIE, PREFIX, limit_page
from api.errors import error_body
from api.slots import SlotFiles, slot_directory
from registry.access.sessions import session_audience
from registry.access.tokens import decode_token
from registry.core.errors import RegistryError
from registry.core.metrics import REGISTRY
from registry.core.settings import Settings

#: (methods, path) of the heavy reads; None: any method.
HEAVY_ROUTES: tuple[tuple[frozenset[str] | None, re.Pattern[str]], ...] = (
    (None, re.compile(r"/api/v1/overview/.*")),
    (frozenset({"GET"}), re.compile(r"/api/v1/audit/(events|verify)/?")),
    (frozenset({"GET"}), re.compile(r"/api/v1/links/export/?")),
    (frozenset({"GET"}), re.compile(r"/api/v1/programmes/[^/]+/quality/?")),
    (
        frozenset({"GET"}),
        re.compile(r"/dashboard/(coverage|overlaps|counts|trends|duplicates|quality)/?"),
    ),
    (None, re.compile(r"/dashboard/audit(/(accesses|verify))?/?")),
    (frozenset({"GET"}), re.compile(r"/dashboard/(spending|movement)/?")),
)

HEAVY_IN_FLIGHT = Gauge(
    "registry_heavy_reads_in_flight",
    "Heavy reads (overview, audit listing, exports) running in this process.",
    registry=REGISTRY,
)
HEAVY_REFUSED = Counter(
    "registry_heavy_reads_refused_total",
    "Heavy reads refused: 'principal' (429, the caller's share) or 'process' (503, busy).",
    ["reason"],
    registry=REGISTRY,
)

#: The statement timeout (ms) of the heavy read the current request is, else None.
_HEAVY_TIMEOUT_MS: ContextVar[int | None] = ContextVar("heavy_read_timeout_ms", default=None)


def is_heavy(method: str, path: str) -> bool:
    """True for a request to one of the heavy-read routes."""
    return any(
        (methods is None or method in methods) and pattern.fullmatch(path)
        for methods, pattern in HEAVY_ROUTES
    )


@dataclass(frozen=True)
class Refusal:
    """Why a heavy read may not start now, as an HTTP answer."""

    status: int
    kind: str
    detail: str
    retry_after: int


@dataclass(frozen=True)
class Admission:
    """A heavy read let in: the two slots it holds until it ends."""

    own_slot: int
    shared_slot: int
    started: float


class HeavyReadLimiter:
    """Heavy reads in flight, per principal and in all, over every worker; never waits."""

    def __init__(self, per_principal: int, overall: int, slots: SlotFiles) -> None:
        self.per_principal = per_principal
        self.overall = overall
        self.slots = slots
        self._lock = threading.Lock()
        self._in_flight = 0
        #: Exponentially weighted mean duration of a heavy read, in seconds.
        self._mean_seconds = 1.0

    @property
    def in_flight(self) -> int:
        """Heavy reads running in this process."""
        return self._in_flight

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the recent mean duration, rounded up."""
        return min(60, max(1, math.ceil(self._mean_seconds)))

    def admit(self, principal: str) -> Admission | Refusal:
        """Take one of `principal`'s slots and one of the registry's, or say why it must wait."""
        own = self.slots.take(f"principal:{principal}", self.per_principal)
        if own is None:
            HEAVY_REFUSED.labels("principal").inc()
            return Refusal(
                429,
                "TooManyRequests",
                f"at most {self.per_principal} heavy read(s) (overview, audit listing, "
                "exports) at once per caller; retry when yours has finished",
                self.retry_after(),
            )
        shared = self.slots.take("registry", self.overall)
        if shared is None:
            self.slots.give(own)
            HEAVY_REFUSED.labels("process").inc()
            return Refusal(
                503,
                "ServiceUnavailable",
                "the registry is busy with heavy reads; retry later",
                self.retry_after(),
            )
        with self._lock:
            self._in_flight += 1
            HEAVY_IN_FLIGHT.set(self._in_flight)
        return Admission(own, shared, time.monotonic())

    def release(self, admission: Admission) -> None:
        """A heavy read has finished: give its slots back."""
        self.slots.give(admission.shared_slot)
        self.slots.give(admission.own_slot)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            seconds = time.monotonic() - admission.started
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * seconds
            HEAVY_IN_FLIGHT.set(self._in_flight)


def _principal_of(scope: Scope, settings: Settings) -> str | None:
    """The verified subject of the bearer token, else of the dashboard cookie; None if neither."""
    headers = Headers(scope=scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    audience = None
    if scheme.lower() != "bearer":
        token = cookie_parser(headers.get("cookie", "")).get(COOKIE, "")
        audience = session_audience(settings)
    token = token.strip()
    if not token:
        return None
    try:
        return str(decode_token(token, settings, audience)["sub"])
    except (RegistryError, KeyError, TypeError, ValueError):
        return None  # refused with 401 by the route, before any query


async def _refuse(send: Send, refusal: Refusal) -> None:
    body = json.dumps(error_body(refusal.kind, refusal.detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(refusal.retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeavyReadLimitMiddleware:
    """Admit a heavy read only within its principal's share and the process's ceiling."""

    def __init__(self, app: ASGIApp, limiter: HeavyReadLimiter, settings: Settings) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings
        self.timeout_ms = settings.heavy_read_timeout_seconds * 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_heavy(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        principal = _principal_of(scope, self.settings)
        if principal is None:
            await self.app(scope, receive, send)
            return
        admission = self.limiter.admit(principal)
        if isinstance(admission, Refusal):
            if scope["path"].startswith(PREFIX):
                page = limit_page(scope, admission.status, admission.retry_after)
                await page(scope, receive, send)
                return
            await _refuse(send, admission)
            return
        token = _HEAVY_TIMEOUT_MS.set(self.timeout_ms)
        try:
            await self.app(scope, receive, send)
        finally:
            _HEAVY_TIMEOUT_MS.reset(token)
            self.limiter.release(admission)


def _heavy_statement_timeout(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    """In a heavy read's request, each transaction gets the heavy-read statement timeout."""
    timeout = _HEAVY_TIMEOUT_MS.get()
    if timeout is not None:
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout)}")


def install_heavy_read_limits(app: FastAPI, settings: Settings) -> HeavyReadLimiter:
    """Add the limiter (innermost middleware) and the statement timeout of heavy reads.

    The worker processes of one registry (same database URL, or the same data folder for the
    embedded server) share their slots through lock files of that name.
    """
    registry_key = settings.database_url or str(settings.data_dir.resolve())
    overall = max(1, min(settings.heavy_reads_max, settings.db_pool_size))
    slots = SlotFiles(slot_directory(registry_key))
    limiter = HeavyReadLimiter(settings.heavy_reads_per_principal, overall, slots)
    app.state.heavy_reads = limiter
    app.add_middleware(HeavyReadLimitMiddleware, limiter=limiter, settings=settings)
    if not event.contains(Session, "after_begin", _heavy_statement_timeout):
        event.listen(Session, "after_begin", _heavy_statement_timeout)
    return limiter
