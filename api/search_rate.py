"""Person searches per principal: at most REGISTRY_PERSON_SEARCHES_PER_MINUTE in any minute.

A search reads persons the caller does not name by id; bounding its rate bounds how fast a
principal can sweep the registry by guessing names and dates. A sliding window per principal
(the verified subject), kept per worker process; over it, the API answers 429 with
``Retry-After`` (seconds until the oldest search of the window leaves it), the dashboard an
error page with the same status and header.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import FastAPI, HTTPException, Request

from api.deps import PrincipalDep, SettingsDep

WINDOW_SECONDS = 60.0
#: Principals remembered at most; the least recently seen are forgotten first.
MAX_PRINCIPALS = 10_000
_MAKING = threading.Lock()


class SearchRateLimiter:
    """A sliding one-minute window of search times per principal."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def admit(self, principal: str, now: float | None = None) -> int | None:
        """Count one search: None if admitted, else the seconds to wait (Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(principal, None) or deque()
            while times and now - times[0] >= WINDOW_SECONDS:
                times.popleft()
            self._seen[principal] = times  # most recently seen last
            if len(times) >= self.per_minute:
                return max(1, math.ceil(WINDOW_SECONDS - (now - times[0])))
            times.append(now)
            while len(self._seen) > MAX_PRINCIPALS:
                del self._seen[next(iter(self._seen))]
            return None


def search_limiter(app: FastAPI, per_minute: int) -> SearchRateLimiter:
    """The app's limiter, made on first use."""
    with _MAKING:
        limiter: SearchRateLimiter | None = getattr(app.state, "search_limiter", None)
        if limiter is None or limiter.per_minute != per_minute:
            limiter = SearchRateLimiter(per_minute)
            app.state.search_limiter = limiter
        return limiter


def refusal(retry_after: int, per_minute: int) -> HTTPException:
    """The 429 answer of a principal over its search rate."""
    return HTTPException(
        429,
        f"at most {per_minute} person searches a minute per caller; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def limit_searches(request: Request, principal: PrincipalDep, settings: SettingsDep) -> None:
    """Route dependency: count the caller's search, or refuse it with 429 and Retry-After."""
    per_minute = settings.person_searches_per_minute
    wait = search_limiter(request.app, per_minute).admit(principal.subject)
    if wait is not None:
        raise refusal(wait, per_minute)
