"""Prometheus metrics of the registry: requests, latencies, batches, link outcomes, queues.

The API middleware calls :func:`observe_request`; the ingest service calls
:func:`observe_batch_size` and :func:`observe_link_outcomes`; the review queue length and the
database's state are computed when the metrics are scraped (:func:`render_metrics`).
Metrics are per process: with ``registry serve --workers N`` each worker counts its own.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import Engine, text

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "observe_batch_size",
    "observe_link_outcomes",
    "observe_request",
    "render_metrics",
]

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "registry_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "registry_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "registry_feed_batch_records",
    "Records per feed batch received (replays not counted).",
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000),
    registry=REGISTRY,
)
LINK_OUTCOMES = Counter(
    "registry_link_outcomes",
    "Feed records by outcome (created, linked, review, unchanged, retracted, rejected...).",
    ("outcome",),
    registry=REGISTRY,
)
REVIEW_QUEUE = Gauge(
    "registry_review_queue_length",
    "Match candidates pending a steward's decision (computed at scrape time).",
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "registry_database_up",
    "1 when the database answered the scrape's query, else 0.",
    registry=REGISTRY,
)
POOL_CHECKED_OUT = Gauge(
    "registry_db_pool_checked_out",
    "Database connections of this process's pool in use at scrape time.",
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def observe_batch_size(records: int) -> None:
    """Record the size of one feed batch that was applied (not a replay)."""
    BATCH_SIZE.observe(records)


def observe_link_outcomes(counts: dict[str, int]) -> None:
    """Add a batch's per-record outcomes, e.g. {"created": 3, "linked": 5, "review": 1}."""
    for outcome, count in counts.items():
        if count > 0:
            LINK_OUTCOMES.labels(str(outcome)[:32]).inc(count)


def _review_queue_length(engine: Engine) -> float | None:
    """Pending match candidates, or None while the table does not exist (migration 0003)."""
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 2000"))
        exists = conn.execute(text("SELECT to_regclass('public.match_candidate')")).scalar()
        if exists is None:
            return None
        count = conn.execute(
            text("SELECT count(*) FROM match_candidate WHERE status = 'pending'")
        ).scalar_one()
        return float(count)


def render_metrics(engine: Engine) -> bytes:
    """Refresh the scrape-time gauges and render every metric in Prometheus text format."""
    try:
        length = _review_queue_length(engine)
    except Exception:
        DATABASE_UP.set(0)
        REVIEW_QUEUE.set(float("nan"))
    else:
        DATABASE_UP.set(1)
        REVIEW_QUEUE.set(float("nan") if length is None else length)
    checked_out = getattr(engine.pool, "checkedout", None)
    if callable(checked_out):
        POOL_CHECKED_OUT.set(checked_out())
    return bytes(generate_latest(REGISTRY))
