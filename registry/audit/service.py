"""Write, read and verify the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.audit.anchors import Anchor
from registry.audit.models import AuditEvent
from registry.audit.naming import NAMING_EVENTS, names_person, naming_params
from registry.audit.schemas import Access, EventPage, ListedEvent, TrailCheck
from registry.core.csvfile import csv_writer
from registry.core.db import execute_script
from registry.core.locks import LockSpace, lock_sql

GENESIS = bytes(32)
#: Advisory-lock key: one writer extends the chain at a time, so it never forks.
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and why: taken from the request (or the CLI) by the boundary."""

    actor: str
    roles: tuple[str, ...]
    purpose: str | None = None
    request_id: str | None = None
    client_address: str | None = None
    #: False only in the audit benchmark (settings refuse it outside dev/bench).
    enabled: bool = True


def _canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_fields(row: AuditEvent) -> dict[str, Any]:
    """The fields an event's hash covers, in the chain's canonical form."""
    return {
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor": row.actor,
        "roles": list(row.roles),
        "action": row.action,
        "outcome": row.outcome,
        "person_ids": list(row.person_ids),
        "record_ids": list(row.record_ids),
        "purpose": row.purpose,
        "request_id": row.request_id,
        "client_address": row.client_address,
        "detail": row.detail,
    }


def chain_hash(prev_hash: bytes, fields: dict[str, Any]) -> bytes:
    """hash = sha256(prev_hash || canonical event)."""
    return hashlib.sha256(prev_hash + _canonical(fields)).digest()


def record_event(
    session: Session,
    context: AuditContext,
    action: str,
    *,
    outcome: str = "ok",
    person_ids: Iterable[str] = (),
    record_ids: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to the chain, in the caller's transaction."""
    if not context.enabled:
        return
    # one round trip: take the chain's lock, then read its head
    prev = execute_script(
        session,
        [
            lock_sql(LockSpace.AUDIT),
            "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1",
        ],
        {},
    ).scalar_one_or_none()
    row = AuditEvent(
        occurred_at=datetime.now(UTC),
        actor=context.actor,
        roles=sorted(context.roles),
        action=action,
        outcome=outcome,
        person_ids=sorted({p for p in person_ids if p}),
        record_ids=sorted(set(record_ids)),
        purpose=(context.purpose or None) and context.purpose[:500],
        request_id=context.request_id,
        client_address=context.client_address,
        detail=detail or {},
    )
    row.prev_hash = bytes(prev) if prev is not None else GENESIS
    row.hash = chain_hash(row.prev_hash, event_fields(row))
    session.add(row)
    session.flush()


#: Problems named in full by one verification (more are counted, not listed).
MAX_PROBLEMS = 20


def _link_problem(row: AuditEvent, prev: bytes, prev_id: int | None) -> str | None:
    """What is wrong with one event and its link to the one before, if anything."""
    if chain_hash(bytes(row.prev_hash), event_fields(row)) != bytes(row.hash):
        return f"event {row.id} was altered: its hash does not match its content"
    if bytes(row.prev_hash) == prev:
        return None
    if prev_id is None:
        return (
            f"chain does not start at genesis: the first event, {row.id}, chains to "
            f"{bytes(row.prev_hash).hex()[:16]}… (earlier events deleted)"
        )
    return (
        f"gap after event {prev_id}: event {row.id} does not chain to it "
        f"(events deleted, or event {prev_id} rewritten)"
    )


#: The month partitions of the trail, by their lower bound (none while it is not partitioned).
_PARTITION_MONTHS = """
SELECT CAST(date_trunc('month', CAST((regexp_match(pg_get_expr(c.relpartbound, c.oid),
       'FROM \\(''([^'']+)''\\)'))[1] AS timestamptz) AT TIME ZONE 'UTC') AS date)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass('public.audit_event')
  AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
"""


def _missing_months(session: Session, event_months: set[date]) -> list[str]:
    """Months the trail's partitions skip (a partition detached or dropped).

    Month partitions are contiguous from the oldest on (migration 0010; upkeep only appends):
    a month missing between the oldest and the newest, or a month of a stored event at or
    before the newest that has no partition of its own, was taken away.
    """
    parts = set(session.execute(text(_PARTITION_MONTHS)).scalars())
    if not parts:
        return []
    oldest, newest = min(parts), max(parts)
    missing = {m for m in event_months if m not in parts and m <= newest}
    month = oldest
    while month < newest:
        if month not in parts:
            missing.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return [
        f"missing month {m:%Y-%m}: audit_event has no partition for it (detached or dropped)"
        for m in sorted(missing)
    ]


def verify_chain(session: Session, anchors: Sequence[Anchor] = ()) -> TrailCheck:
    """Check the chain from genesis, its months, and that it extends every anchor given.

    Streams the events in id order once (ids come from a sequence, so rolled-back
    transactions leave id gaps: continuity is by hash link, never by id arithmetic). The first
    event must chain to the zero hash and each later one to the one before; every event's hash
    must match its content. `first_broken` is the first event whose check fails and
    `events_checked` how many passed before it; `problems` names everything found.
    """
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        pending.setdefault(anchor.event_id, []).append(anchor)
    problems: list[str] = []
    prev, prev_id = GENESIS, None
    checked = 0
    first_broken: int | None = None
    months: set[date] = set()
    rows = session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    ).scalars()
    for seen, row in enumerate(rows, start=1):
        moment = row.occurred_at.astimezone(UTC)
        months.add(date(moment.year, moment.month, 1))
        problem = _link_problem(row, prev, prev_id)
        if problem is not None:
            first_broken = first_broken or row.id
            problems.append(problem)
        elif first_broken is None:
            checked += 1
        for anchor in pending.pop(row.id, ()):
            if anchor.hash != bytes(row.hash).hex():
                problems.append(
                    f"anchor not extended: anchored event {row.id} has a different hash"
                )
            elif anchor.count != seen:
                problems.append(
                    f"anchor not extended: {seen} events up to event {row.id}, "
                    f"{anchor.count} when it was anchored"
                )
        prev, prev_id = bytes(row.hash), row.id
    for event_id in sorted(pending):
        problems.append(f"anchor not extended: anchored event {event_id} is missing")
    problems.extend(_missing_months(session, months))
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"… and {len(problems) - MAX_PROBLEMS} more"]
    return TrailCheck(
        ok=not problems,
        events_checked=checked,
        first_broken=first_broken,
        head=prev.hex() if first_broken is None else None,
        head_id=prev_id if first_broken is None else None,
        anchors_checked=len(anchors) if anchors else None,
        problems=problems,
    )


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    person_id: str | None = None,
    action: str | None = None,
    purpose: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: int | None = None,
    limit: int = 100,
    page_cap: int = MAX_PAGE,
) -> EventPage:
    """A page of events, newest first, filtered; `next_cursor` continues the listing.

    `purpose` matches events whose stated purpose contains it, ignoring case.
    """
    limit = min(limit, page_cap)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if person_id:  # named in the event or in its manifest
        query = query.where(names_person(person_id))
    if action:
        query = query.where(AuditEvent.action == action)
    if purpose:
        query = query.where(AuditEvent.purpose.ilike(f"%{_like_escaped(purpose)}%", escape="\\"))
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    if cursor:
        query = query.where(AuditEvent.id < cursor)
    rows: Sequence[AuditEvent] = session.scalars(query).all()
    events = [ListedEvent(id=r.id, **event_fields(r), hash=bytes(r.hash).hex()) for r in rows]
    next_cursor = rows[-1].id if rows and len(rows) == limit else None
    return EventPage(events, next_cursor)


def _like_escaped(text: str) -> str:
    """Text for a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: The identity decisions a steward takes; each is audited through record_identity_decision.
IdentityAction = Literal[
    "person.merge", "person.split", "person.relink", "review.decision", "person.rectify"
]


def record_identity_decision(
    session: Session,
    context: AuditContext,
    action: IdentityAction,
    *,
    person_ids: Iterable[str],
    record_ids: Iterable[str] = (),
    decision: str | None = None,
    candidate_id: int | str | None = None,
    link_event_id: int | None = None,
    fields: Iterable[str] = (),
) -> None:
    """Audit a merge, split, relink, review decision or rectification, in the work's transaction.

    Call it from the router (or service) after the change is flushed and before the commit;
    pass every person id on both sides (the survivor and the absorbed, the source and the new
    person) and the moved record ids as ``PROGRAMME:source_id``. Free text (reasons, notes)
    is never copied: it can hold names; the decision's own table keeps it.
    """
    detail: dict[str, Any] = {}
    if decision is not None:
        detail["decision"] = decision
    if candidate_id is not None:
        detail["candidate_id"] = str(candidate_id)
    if link_event_id is not None:
        detail["link_event_id"] = link_event_id
    if fields:
        detail["fields"] = sorted(set(fields))
    record_event(
        session, context, action, person_ids=person_ids, record_ids=record_ids, detail=detail
    )


def who_accessed(session: Session, person_id: str) -> list[Access]:
    """Who touched a person: per actor and action, how often, first and last time (one query).

    Events naming the person through a manifest (a bulk export) count as well.
    """
    rows = session.execute(
        text(
            f"""
            SELECT actor, action, outcome, min(occurred_at) AS first_at,
                   max(occurred_at) AS last_at, count(*) AS events,
                   array_agg(DISTINCT purpose) FILTER (WHERE purpose IS NOT NULL) AS purposes,
                   (array_agg(array_to_string(roles, ' ') ORDER BY id DESC))[1] AS roles
            FROM audit_event
            WHERE (id, occurred_at) IN ({NAMING_EVENTS})
            GROUP BY actor, action, outcome
            ORDER BY max(occurred_at) DESC, actor, action
            """
        ),
        naming_params(person_id),
    ).mappings()
    return [
        Access(
            actor=r["actor"],
            roles=str(r["roles"] or "").split(),
            action=r["action"],
            outcome=r["outcome"],
            events=int(r["events"]),
            first_at=r["first_at"],
            last_at=r["last_at"],
            purposes=sorted(r["purposes"] or []),
        )
        for r in rows
    ]


CSV_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "roles",
    "action",
    "outcome",
    "person_ids",
    "record_ids",
    "purpose",
    "request_id",
    "client_address",
    "detail",
    "hash",
)


def events_csv(
    events: Sequence[ListedEvent],
    *,
    names: Mapping[str, str] | None = None,
    delimiter: str = ",",
    bom: bool = False,
) -> str:
    """Listed events as CSV (lists joined by spaces, detail as JSON).

    With `names` (actor → name) an `actor_name` column follows `actor`; `delimiter` and `bom`
    make the file Danish Excel opens (`;` and a UTF-8 byte-order mark).
    """
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv_writer(buffer, lineterminator="\n", delimiter=delimiter)
    columns = list(CSV_COLUMNS)
    if names is not None:
        columns.insert(columns.index("actor") + 1, "actor_name")
    writer.writerow(columns)
    for event in events:
        row = []
        for column in columns:
            if column == "actor_name":
                row.append((names or {}).get(event.actor, event.actor))
                continue
            value = getattr(event, column)
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            row.append("" if value is None else str(value))
        writer.writerow(row)
    return buffer.getvalue()
