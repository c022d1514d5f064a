"""Monthly partitions of the append-only history tables: create the coming months ahead.

Migration 0006 range-partitions `audit_event` (by `occurred_at`) and `source_record_version`
(by `received_at`) by calendar month in UTC, with the partitions in the schema
`registry_partitions` and a DEFAULT partition each, so an insert never fails. It creates the
months that held rows and twelve months ahead; after that, `ensure_partitions` (the SQL
function `registry_ensure_partitions`) must run at least once every few months — from the
maintenance command, a cron job, or at server start. A row that lands in the DEFAULT
partition because a month was missing is moved into its month when that month is created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

PARTITION_SCHEMA = "registry_partitions"
#: The partitioned tables and their partition key.
PARTITIONED = {"audit_event": "occurred_at", "source_record_version": "received_at"}
#: Months created ahead by a maintenance run (the migration creates twelve).
DEFAULT_MONTHS_AHEAD = 3


def ensure_partitions(session: Session, months_ahead: int = DEFAULT_MONTHS_AHEAD) -> int:
    """Create this month's and the next `months_ahead` months' partitions; how many were new."""
    if not 0 <= months_ahead <= 120:
        raise ValueError("months_ahead must be between 0 and 120")
    created = session.execute(
        text("SELECT registry_ensure_partitions(:ahead)"), {"ahead": months_ahead}
    ).scalar_one()
    return int(created)


def list_partitions(session: Session) -> list[dict[str, Any]]:
    """Every partition: table, name, bounds (or DEFAULT) and estimated rows, oldest first."""
    rows = session.execute(
        text(
            """
            SELECT p.relname AS table_name, c.relname AS partition,
                   pg_get_expr(c.relpartbound, c.oid) AS bounds,
                   greatest(c.reltuples, 0)::bigint AS rows
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind = 'r'
            ORDER BY p.relname, c.relname = p.relname || '_default', c.relname
            """
        ),
        {"schema": PARTITION_SCHEMA},
    ).mappings()
    return [dict(r) for r in rows]
