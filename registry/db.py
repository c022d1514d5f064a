"""Database plumbing: the engine, sessions, and the transaction boundary."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from registry.settings import Settings, get_settings

T = TypeVar("T")


def resolve_database_url(settings: Settings) -> str:
    """Use REGISTRY_DATABASE_URL when set, else start the embedded PostgreSQL."""
    if settings.database_url:
        return settings.database_url
    from registry.embedded import start_embedded

    return start_embedded(settings.data_dir)


def make_engine(url: str, *, pool_size: int = 8, connect_timeout: int = 5) -> Engine:
    """Create an engine with pre-ping so lost connections are replaced.

    SQL parameters are hidden from error messages (they reach logs and hold personal data);
    a connection attempt gives up after ``connect_timeout`` seconds, so a request answers 503
    promptly while the database is away.
    """
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"connect_timeout": connect_timeout},
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
    )


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
