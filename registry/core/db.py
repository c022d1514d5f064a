"""Database plumbing: the engine, sessions, the transaction boundary, and the read replica."""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import Gauge
from sqlalchemy import Engine, Result, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from registry.core.metrics import REGISTRY
from registry.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from registry.core.roles import RoleUrls

T = TypeVar("T")
logger = logging.getLogger(__name__)


def resolve_database_url(settings: Settings) -> str:
    """The application role's URL: REGISTRY_DATABASE_URL, else the embedded server's app role."""
    if settings.database_url:
        return settings.database_url
    return embedded_role_urls(settings.data_dir).app


def resolve_owner_url(settings: Settings) -> str | None:
    """The owner's URL (migrations, partition upkeep, backups), None when not configured.

    REGISTRY_OWNER_DATABASE_URL when set; the embedded server's owner role when neither URL
    is set; None when only REGISTRY_DATABASE_URL is (the application cannot migrate).
    """
    if settings.owner_database_url:
        return settings.owner_database_url
    if settings.database_url:
        return None
    return embedded_role_urls(settings.data_dir).owner


@lru_cache(maxsize=4)
def embedded_role_urls(data_dir: Path) -> RoleUrls:
    """Start the embedded PostgreSQL, create the owner and app roles, and return their URLs."""
    from registry.core.embedded import start_embedded
    from registry.core.roles import bootstrap, derived_urls

    superuser = start_embedded(data_dir)
    database = str(make_url(superuser).database)
    bootstrap(superuser, database)
    return derived_urls(superuser, database)


def make_engine(
    url: str,
    *,
    pool_size: int = 8,
    connect_timeout: int = 5,
    application_name: str | None = None,
    pool_timeout: float = 30.0,
) -> Engine:
    """Create an engine with pre-ping so lost connections are replaced.

    SQL parameters are hidden from error messages (they reach logs and hold personal data);
    a connection attempt gives up after ``connect_timeout`` seconds, so a request answers 503
    promptly while the database is away; waiting for a pooled connection, after
    ``pool_timeout`` seconds (also a 503).
    """
    connect_args: dict[str, object] = {"connect_timeout": connect_timeout}
    if application_name:
        connect_args["application_name"] = application_name
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args=connect_args,
        future=True,
    )


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine, built from settings on first use."""
    settings = get_settings()
    return make_engine(
        resolve_database_url(settings),
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout_seconds,
        pool_timeout=settings.db_pool_timeout_seconds,
    )


def get_owner_engine() -> Engine:
    """An engine as the owner (a new one: dispose it), else the process-wide engine."""
    settings = get_settings()
    owner = resolve_owner_url(settings)
    if owner is None:
        return get_engine()
    return make_engine(owner, pool_size=1, connect_timeout=settings.db_connect_timeout_seconds)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions never expire objects on commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def execute_script(
    session: Session, statements: Sequence[str], params: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Run statements in order in one round trip; the last one's rows are the result.

    Their parameters share one namespace. On a hot path of many small statements (a
    one-record ingest batch runs some forty) the round trips cost more than the work. When
    statement listeners are attached to the engine (the plan checks that EXPLAIN each
    statement, a tracer), the statements go one at a time instead, so each is seen alone.
    """
    values = dict(params or {})
    parts = [s.strip().rstrip(";") for s in statements]
    if session.connection().dispatch.before_cursor_execute:
        result: Result[Any] | None = None
        for part in parts:
            names = set(_BIND_NAME.findall(part))
            result = session.execute(text(part), {k: v for k, v in values.items() if k in names})
        if result is None:
            raise ValueError("no statement to run")
        return result
    return session.execute(text(";\n".join(parts)), values)


_BIND_NAME = re.compile(r"(?<![:\w]):(\w+)")


#: SQLSTATEs worth retrying: serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure, which a fresh attempt can resolve."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "pgcode", None) in RETRYABLE_SQLSTATES


def with_retries(session: Session, work: Callable[[], T], attempts: int = 5) -> T:
    """Run work in the session; on a deadlock or serialization failure roll back and retry."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts:
                raise
            session.rollback()
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


# --- Read replica (issue 8) -------------------------------------------------------------------

#: While the replica serves, its lag is measured again at most this often (seconds) ...
REPLICA_CHECK_SECONDS = 1.0
#: ... and once it is unreachable, not a standby or too far behind, retried after this long.
REPLICA_RETRY_SECONDS = 5.0

REPLICA_SERVING = Gauge(
    "registry_replica_serving",
    "1 while overview and audit reads go to the read replica, 0 while they go to the primary.",
    registry=REGISTRY,
)
REPLICA_LAG = Gauge(
    "registry_replica_lag_seconds",
    "Upper bound on the read replica's staleness at its last check (NaN when unknown).",
    registry=REGISTRY,
)

_REPLICA_STATE = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
    " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
)


def lsn_to_int(lsn: str) -> int:
    """A WAL position written `X/Y` (hexadecimal halves) as one comparable integer."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True)
class ReplicaStatus:
    """The read router's last verdict: where lag-tolerant reads go, and why."""

    configured: bool
    serving: bool
    #: Upper bound on how stale the replica was at the check, in seconds; None when unknown.
    lag_seconds: float | None
    #: fresh | lagging | unreachable | primary unreachable | not a standby | not configured ...
    reason: str

    def view(self) -> dict[str, object]:
        """A JSON-ready summary (no URLs, no credentials)."""
        lag = None if self.lag_seconds is None else round(self.lag_seconds, 3)
        return {"configured": self.configured, "serving": self.serving, "lag_seconds": lag}


class ReadRouter:
    """Sends reads that may be slightly stale to a streaming replica while it is fresh enough.

    Staleness is bounded from two measurements, whichever is tighter: the replica contains every
    commit of the primary up to the primary WAL position sampled at an earlier check once
    ``pg_last_wal_replay_lsn()`` has passed it (so an idle, caught-up pair reads 0), and every
    commit up to ``pg_last_xact_replay_timestamp()``. Beyond ``max_lag_seconds``, unknown, or
    unreachable, reads go to the primary until a later check finds the replica fresh again.
    """

    def __init__(
        self,
        primary: Engine,
        replica: Engine | None,
        *,
        max_lag_seconds: float = 30.0,
        check_seconds: float = REPLICA_CHECK_SECONDS,
        retry_seconds: float = REPLICA_RETRY_SECONDS,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self._sessions = session_factory(replica) if replica is not None else None
        self._lock = threading.Lock()
        self._due = 0.0
        self._checked = False
        #: (primary WAL position, monotonic time just before it was read), newest last.
        self._samples: deque[tuple[int, float]] = deque(maxlen=64)
        reason = "not checked yet" if replica is not None else "not configured"
        self._status = ReplicaStatus(replica is not None, False, None, reason)

    @property
    def status(self) -> ReplicaStatus:
        """The verdict of the last check (no database access)."""
        return self._status

    def read_engine(self) -> Engine:
        """The replica while its last check found it fresh (re-checking when due), else primary."""
        if self.replica is None:
            return self.primary
        if time.monotonic() >= self._due and self._lock.acquire(blocking=not self._checked):
            # only the first check makes others wait; later ones let them use the last verdict
            try:
                if time.monotonic() >= self._due:
                    self._apply(self._measure())
            finally:
                self._lock.release()
        return self.replica if self._status.serving else self.primary

    def check(self) -> ReplicaStatus:
        """Measure the replica now, whatever the schedule, and return the verdict."""
        if self.replica is None:
            return self._status
        with self._lock:
            self._apply(self._measure())
        return self._status

    def replica_session(self) -> Session:
        """A new session on the replica (call only after ``read_engine`` returned the replica)."""
        if self._sessions is None:
            raise RuntimeError("no read replica is configured")
        return self._sessions()

    def mark_unreachable(self, exc: BaseException) -> None:
        """A replica connection failed while serving: use the primary until the next retry."""
        if self.replica is not None:  # no lock: never wait behind a check that is timing out
            self._apply(ReplicaStatus(True, False, None, f"unreachable ({type(exc).__name__})"))

    def dispose(self) -> None:
        """Close the replica's pooled connections (the primary's engine belongs to the caller)."""
        if self.replica is not None:
            self.replica.dispose()

    def _measure(self) -> ReplicaStatus:
        assert self.replica is not None
        sampled_at = time.monotonic()
        try:
            with self.primary.connect() as conn:
                conn.execute(text("SET LOCAL statement_timeout = 2000"))
                head = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        except DBAPIError as exc:
            return ReplicaStatus(True, False, None, f"primary unreachable ({type(exc).__name__})")
        try:
            with self.replica.connect() as conn:
                conn.execute(text("SET LOCAL statement_timeout = 2000"))
                standby, replayed, since_replay = conn.execute(_REPLICA_STATE).one()
        except DBAPIError as exc:
            return ReplicaStatus(True, False, None, f"unreachable ({type(exc).__name__})")
        if not standby:
            return ReplicaStatus(True, False, None, "not a standby (not in recovery)")
        now = time.monotonic()
        self._samples.append((lsn_to_int(head), sampled_at))
        bounds = [] if since_replay is None else [max(0.0, float(since_replay))]
        if replayed is not None:
            position = lsn_to_int(replayed)
            passed = [at for lsn, at in self._samples if lsn <= position]
            if passed:
                bounds.append(now - max(passed))
        lag = min(bounds) if bounds else None
        if lag is None:
            return ReplicaStatus(True, False, None, "lag unknown")
        if lag > self.max_lag_seconds:
            return ReplicaStatus(True, False, lag, f"lagging > {self.max_lag_seconds:g}s")
        return ReplicaStatus(True, True, lag, "fresh")

    def _apply(self, status: ReplicaStatus) -> None:
        previous, self._status, self._checked = self._status, status, True
        self._due = time.monotonic() + (
            self.check_seconds if status.serving else self.retry_seconds
        )
        REPLICA_SERVING.set(1 if status.serving else 0)
        REPLICA_LAG.set(math.nan if status.lag_seconds is None else status.lag_seconds)
        if status.serving and not previous.serving:
            logger.info("read replica in use (lag <= %.3fs)", status.lag_seconds or 0.0)
        elif not status.serving and (previous.serving or status.reason != previous.reason):
            logger.warning("overview and audit reads on the primary: replica %s", status.reason)


def make_read_router(primary: Engine, settings: Settings) -> ReadRouter:
    """The read router of a deployment: with REGISTRY_REPLICA_URL, else reads stay on primary."""
    replica = None
    if settings.replica_url:
        replica = make_engine(
            settings.replica_url,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout_seconds,
            application_name="registry-read",
            pool_timeout=settings.db_pool_timeout_seconds,
        )
    return ReadRouter(primary, replica, max_lag_seconds=settings.replica_max_lag_seconds)


@lru_cache(maxsize=1)
def get_read_router() -> ReadRouter:
    """The process-wide read router, around the process-wide engine."""
    return make_read_router(get_engine(), get_settings())


def get_read_engine() -> Engine:
    """Where lag-tolerant reads go now: the replica when set and fresh, else the primary."""
    return get_read_router().read_engine()
