"""Shortening or rewriting the audit chain as the owner or a superuser is named by verify.

The three moves of the issue, each done with powers the application role does not have
(tests/audit/test_least_privilege.py shows it has none of them): deleting the newest events
under `session_replication_role = replica`; editing an event and recomputing every hash after
it with the project's own function; detaching and dropping a monthly partition. Each is named
by `registry audit verify --anchors FILE`, exit status 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from registry.audit.models import AuditEvent
from registry.audit.service import AuditContext, chain_hash, event_fields
from registry.cli.main import app
from registry.core.db import transaction
from registry.core.locks import LockSpace, hold
from registry.core.partitions import PARTITION_SCHEMA

ANCHOR_KEY = "test-anchor-key-" + "z" * 32
READER = AuditContext(actor="user:1", roles=("oversight",))


@pytest.fixture(autouse=True)
def restore_months(superuser_engine: Engine) -> Iterator[None]:
    """Put back the months a test dropped (this month and twelve ahead, as the migration)."""
    yield
    with superuser_engine.begin() as conn:
        conn.execute(text("SET LOCAL ROLE registry_owner"))
        conn.execute(
            text("SELECT registry_create_month_partitions('audit_event', :m, 13)"),
            {"m": datetime.now(UTC).date()},
        )


@pytest.fixture
def anchors(
    cli_env: None, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The file of signed anchors, kept outside the database (and the key to sign them)."""
    monkeypatch.setenv("REGISTRY_AUDIT_ANCHOR_KEY", ANCHOR_KEY)
    yield tmp_path / "anchors.jsonl"


def _append_at(engine: Engine, moment: datetime, count: int) -> list[int]:
    """`count` chained events at `moment`, written by the application role."""
    ids = []
    with transaction(engine) as session:
        for n in range(count):
            hold(session, LockSpace.AUDIT)
            head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            prev = bytes(head.hash) if head is not None else bytes(32)
            row = AuditEvent(
                occurred_at=moment,
                actor=READER.actor,
                roles=list(READER.roles),
                action="person.read",
                outcome="ok",
                person_ids=[f"p{n}"],
                record_ids=[],
                purpose=None,
                request_id=None,
                client_address=None,
                detail={},
            )
            row.prev_hash = prev
            row.hash = chain_hash(prev, event_fields(row))
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _shift(months: int) -> datetime:
    """Mid-month, `months` calendar months from now (UTC)."""
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 15, 12, tzinfo=UTC)


def _drop_month(superuser_engine: Engine, moment: datetime) -> None:
    """Detach and drop the month's partition of the trail, as its owner could."""
    part = f"audit_event_p{moment:%Y_%m}"
    with superuser_engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE audit_event DETACH PARTITION {PARTITION_SCHEMA}.{part}"))
        conn.execute(text(f"DROP TABLE {PARTITION_SCHEMA}.{part}"))


def _anchor(anchors: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "anchor", "--out", str(anchors)])
    assert result.exit_code == 0, result.output


def _verify(anchors: Path | None = None) -> tuple[int, str]:
    args = ["audit", "verify"] + (["--anchors", str(anchors)] if anchors else [])
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_deleting_the_newest_events_is_named_against_the_anchor(
    anchors: Path, engine: Engine, superuser_engine: Engine
) -> None:
    ids = _append_at(engine, datetime.now(UTC), 5)
    _anchor(anchors)
    with superuser_engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_event WHERE id > :i"), {"i": ids[2]})
    # the shortened chain is a valid chain on its own ...
    assert _verify() == (0, "audit chain ok: 3 events\n")
    # ... but it no longer extends the kept anchor
    status, output = _verify(anchors)
    assert status == 1
    assert f"anchor not extended: anchored event {ids[-1]} is missing" in output


def test_rewriting_an_event_and_rehashing_the_rest_is_named_against_the_anchor(
    anchors: Path, engine: Engine, superuser_engine: Engine
) -> None:
    ids = _append_at(engine, datetime.now(UTC), 5)
    _anchor(anchors)
    with transaction(superuser_engine) as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = bytes(rows[0].prev_hash)
        for row in rows:
            if row.id == ids[1]:
                row.actor = "user:2"
            row.prev_hash = prev
            row.hash = prev = chain_hash(prev, event_fields(row))
    assert _verify() == (0, "audit chain ok: 5 events\n")
    status, output = _verify(anchors)
    assert status == 1
    assert f"anchor not extended: anchored event {ids[-1]} has a different hash" in output


def test_dropping_the_only_month_and_starting_afresh_is_named(
    anchors: Path, engine: Engine, superuser_engine: Engine
) -> None:
    now = datetime.now(UTC)
    ids = _append_at(engine, now, 4)
    _anchor(anchors)
    _drop_month(superuser_engine, now)
    # new events land in the DEFAULT partition and start a fresh chain from genesis
    _append_at(engine, now, 1)
    status, output = _verify(anchors)
    assert status == 1
    assert f"missing month {_month(now)}" in output
    assert f"anchor not extended: anchored event {ids[-1]} is missing" in output


def test_dropping_the_oldest_month_is_named_as_not_starting_at_genesis(
    anchors: Path, engine: Engine, superuser_engine: Engine
) -> None:
    first = _append_at(engine, _shift(0), 2)
    _append_at(engine, _shift(1), 2)
    _anchor(anchors)
    _drop_month(superuser_engine, _shift(0))
    status, output = _verify(anchors)
    assert status == 1
    assert f"chain does not start at genesis: the first event, {first[-1] + 1}," in output


def test_dropping_a_middle_month_is_named_as_a_gap_and_a_missing_month(
    anchors: Path, engine: Engine, superuser_engine: Engine, client: object
) -> None:
    before = _append_at(engine, _shift(0), 2)
    _append_at(engine, _shift(1), 2)
    after = _append_at(engine, _shift(2), 2)
    _anchor(anchors)
    _drop_month(superuser_engine, _shift(1))
    status, output = _verify(anchors)
    assert status == 1
    assert f"gap after event {before[-1]}: event {after[0]} does not chain to it" in output
    assert f"missing month {_month(_shift(1))}" in output


def test_dropping_the_newest_month_with_events_is_named(
    anchors: Path, engine: Engine, superuser_engine: Engine
) -> None:
    _append_at(engine, _shift(0), 2)
    newest = _append_at(engine, _shift(1), 2)
    _anchor(anchors)
    _drop_month(superuser_engine, _shift(1))
    status, output = _verify(anchors)
    assert status == 1
    assert f"missing month {_month(_shift(1))}" in output
    assert f"anchor not extended: anchored event {newest[-1]} is missing" in output


def test_a_forged_anchor_is_refused(anchors: Path, engine: Engine) -> None:
    _append_at(engine, datetime.now(UTC), 2)
    _anchor(anchors)
    line = anchors.read_text().splitlines()[-1]
    anchors.write_text(line.replace('"count": 2', '"count": 1') + "\n")
    status, output = _verify(anchors)
    assert status == 1 and "anchor on line 1: bad signature" in output


def test_anchoring_needs_a_key_kept_outside_the_database(
    cli_env: None, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append_at(engine, datetime.now(UTC), 1)
    monkeypatch.delenv("REGISTRY_AUDIT_ANCHOR_KEY", raising=False)
    result = CliRunner().invoke(app, ["audit", "anchor", "--out", str(tmp_path / "a.jsonl")])
    assert result.exit_code == 1
    assert "set REGISTRY_AUDIT_ANCHOR_KEY or REGISTRY_AUDIT_ANCHOR_KEY_FILE" in result.output
    missing = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no such file" in missing.output
