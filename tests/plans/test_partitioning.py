"""Migration 0006: monthly partitions of the audit trail and record versions, data kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from registry.audit.schemas import TrailCheck
from registry.audit.service import GENESIS, AuditContext, chain_hash, record_event, verify_chain
from registry.core.db import transaction
from registry.core.migrate import alembic_config
from registry.core.partitions import PARTITION_SCHEMA, ensure_partitions, list_partitions
from tests.plans.conftest import FreshDatabase

#: Old months (before the migration's window), this month is added by the fixture.
OLD_MONTHS = [datetime(2024, 1, 31, 23, 59, 59, 999999, UTC), datetime(2025, 6, 1, tzinfo=UTC)]


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y_%m")


def _append_event(conn: Any, occurred_at: datetime, actor: str) -> None:
    """One chained event at a chosen time, hashed exactly as registry.audit.service does."""
    prev = conn.execute(text("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1")).scalar()
    prev = bytes(prev) if prev is not None else GENESIS
    fields = {
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "actor": actor,
        "roles": ["auditor"],
        "action": "person.read",
        "outcome": "ok",
        "person_ids": [],
        "record_ids": [],
        "purpose": None,
        "request_id": None,
        "client_address": None,
        "detail": {},
    }
    conn.execute(
        text(
            "INSERT INTO audit_event (occurred_at, actor, roles, action, outcome, prev_hash, hash) "
            "VALUES (:t, :a, ARRAY['auditor'], 'person.read', 'ok', :p, :h)"
        ),
        {"t": occurred_at, "a": actor, "p": prev, "h": chain_hash(prev, fields)},
    )


def _add_version(conn: Any, received_at: datetime, version: int) -> None:
    conn.execute(
        text(
            "INSERT INTO source_record_version (source_record_id, version, feed_batch_id, "
            "payload, payload_hash, retracted, received_at) "
            "SELECT min(r.id), :v, min(b.id), CAST(:payload AS jsonb), '\\x01', false, :t "
            "FROM source_record r, feed_batch b"
        ),
        {"v": version, "t": received_at, "payload": f'{{"version": {version}}}'},
    )


def _seed_0005(engine: Engine, moments: list[datetime]) -> None:
    """A programme, a person, a record, and one event and one version per moment."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO programme (code, name, benefit_codes) VALUES ('P1', 'P', '{}');"
                "INSERT INTO person (id) VALUES (gen_random_uuid());"
                "INSERT INTO feed_batch (programme_id, batch_id, content_hash, submitted_by) "
                "SELECT id, 'b1', '\\x00', 'test' FROM programme;"
                "INSERT INTO source_record (programme_id, source_id, person_id, link_method, "
                "version, payload_hash) SELECT g.id, 's1', p.id, 'new', 1, '\\x00' "
                "FROM programme g, person p"
            )
        )
        for n, moment in enumerate(moments, start=1):
            _append_event(conn, moment, f"user:{n}")
            _add_version(conn, moment, n)


def _snapshot(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in ("audit_event", "source_record_version")
        }


def _relkind(engine: Engine, table: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar_one()
        )


def _verify(engine: Engine) -> TrailCheck:
    with transaction(engine) as session:
        return verify_chain(session)


@pytest.fixture
def at_0005(fresh_database: FreshDatabase) -> Iterator[tuple[str, Engine]]:
    url = fresh_database("registry_partition_upgrade")
    command.upgrade(alembic_config(url), "0005")
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def test_upgrade_partitions_by_month_keeping_rows_chain_and_ids(
    at_0005: tuple[str, Engine],
) -> None:
    url, engine = at_0005
    moments = [*OLD_MONTHS, datetime.now(UTC)]
    _seed_0005(engine, moments)
    before = _snapshot(engine)
    head = _verify(engine)
    assert head.ok is True and head.events_checked == 3

    command.upgrade(alembic_config(url), "head")

    assert _snapshot(engine) == before
    assert _relkind(engine, "audit_event") == _relkind(engine, "source_record_version") == "p"
    with engine.connect() as conn:
        placed = conn.execute(
            text(
                "SELECT tableoid::regclass::text, occurred_at FROM audit_event "
                "UNION ALL SELECT tableoid::regclass::text, received_at FROM source_record_version"
            )
        ).all()
    # every row sits in its own month's partition (UTC), none in the default partition
    for partition, moment in placed:
        assert partition.startswith(f"{PARTITION_SCHEMA}.")
        assert partition.endswith(f"_p{_month(moment)}"), (partition, moment)
    assert _verify(engine) == head
    # the id sequences carry on, and the ORM writes through the composite primary key
    with transaction(engine) as session:
        record_event(session, AuditContext(actor="user:9", roles=("auditor",)), "person.read")
    with engine.begin() as conn:
        _add_version(conn, datetime.now(UTC), 9)
        ids = conn.execute(
            text(
                "SELECT (SELECT max(id) FROM audit_event), "
                "(SELECT max(id) FROM source_record_version)"
            )
        ).one()
    assert tuple(ids) == (4, 4)
    assert _verify(engine).events_checked == 4


def test_downgrade_restores_plain_tables_and_the_unique_version(
    at_0005: tuple[str, Engine],
) -> None:
    url, engine = at_0005
    _seed_0005(engine, [*OLD_MONTHS, datetime.now(UTC)])
    before = _snapshot(engine)
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "0005")

    assert _snapshot(engine) == before
    assert _relkind(engine, "audit_event") == _relkind(engine, "source_record_version") == "r"
    assert _verify(engine).events_checked == 3
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT to_regnamespace(:s)"), {"s": PARTITION_SCHEMA})
        assert schema.scalar() is None
    unique = "uq_source_record_version_source_record_id"
    with pytest.raises(DBAPIError, match=unique), engine.begin() as conn:
        _add_version(conn, datetime.now(UTC), 1)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    command.upgrade(alembic_config(url), "head")
    assert _snapshot(engine) == before


def test_history_stays_append_only_partition_by_partition(owner_engine: Engine) -> None:
    # the triggers refuse even the tables' owner (the application role is refused by privilege)
    engine = owner_engine
    _seed_0005(engine, [datetime.now(UTC)])
    month = f"{PARTITION_SCHEMA}.audit_event_p{_month(datetime.now(UTC))}"
    default = f"{PARTITION_SCHEMA}.audit_event_default"
    for statement in (
        "UPDATE audit_event SET actor = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        f"UPDATE {month} SET actor = 'x'",
        f"DELETE FROM {month}",
        f"TRUNCATE {month}",
        f"TRUNCATE {default}",
        "UPDATE source_record_version SET retracted = true",
        "DELETE FROM source_record_version",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert {t: len(rows) for t, rows in _snapshot(engine).items()} == {
        "audit_event": 1,
        "source_record_version": 1,
    }


@pytest.fixture
def at_head(fresh_database: FreshDatabase) -> Iterator[Engine]:
    url = fresh_database("registry_partition_maintenance")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    yield engine
    engine.dispose()


def test_default_partition_catches_a_missing_month_and_creating_it_moves_the_rows(
    at_head: Engine,
) -> None:
    engine = at_head
    future = datetime(2099, 3, 15, 12, tzinfo=UTC)
    with engine.begin() as conn:
        _append_event(conn, datetime.now(UTC), "user:1")
        _append_event(conn, future, "user:2")
        _append_event(conn, datetime(2099, 7, 1, tzinfo=UTC), "user:3")
        _append_event(conn, datetime.now(UTC), "user:4")
        where = conn.execute(
            text("SELECT actor, tableoid::regclass::text FROM audit_event ORDER BY id")
        ).all()
    assert [p.rsplit("_", 1)[-1] for _, p in where][1:3] == ["default", "default"]
    before = _snapshot(engine)

    with engine.begin() as conn:
        made = conn.execute(
            text("SELECT registry_create_month_partitions('audit_event', '2099-03-01', 1)")
        ).scalar_one()
        again = conn.execute(
            text("SELECT registry_create_month_partitions('audit_event', '2099-03-20', 1)")
        ).scalar_one()
        where = dict(
            conn.execute(text("SELECT actor, tableoid::regclass::text FROM audit_event")).all()
        )
    assert (made, again) == (1, 0)
    assert where["user:2"] == f"{PARTITION_SCHEMA}.audit_event_p2099_03"
    assert where["user:3"] == f"{PARTITION_SCHEMA}.audit_event_default"
    assert _snapshot(engine) == before
    assert _verify(engine).events_checked == 4
    # the new month and the re-made default partition refuse TRUNCATE like the others
    for name in ("audit_event_p2099_03", "audit_event_default"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {PARTITION_SCHEMA}.{name}"))


def test_ensure_partitions_creates_the_coming_months_once(at_head: Engine) -> None:
    with transaction(at_head) as session:
        listed = list_partitions(session)
        # the migration made this month and twelve ahead, plus DEFAULT, for both tables
        assert len(listed) == 2 * (13 + 1)
        assert ensure_partitions(session, months_ahead=12) == 0
        assert ensure_partitions(session, months_ahead=15) == 2 * 3
        assert ensure_partitions(session, months_ahead=15) == 0
        names = {p["partition"] for p in list_partitions(session)}
    now = datetime.now(UTC)
    ahead = now.year * 12 + now.month - 1 + 15
    last = f"{ahead // 12}_{ahead % 12 + 1:02d}"
    assert {f"audit_event_p{last}", f"source_record_version_p{last}"} <= names
    defaults = [p for p in listed if p["partition"].endswith("_default")]
    assert [d["bounds"] for d in defaults] == ["DEFAULT", "DEFAULT"]
