"""Steward work on identity: review decisions, merge, split, history, links export."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.audit.reads import decision_sides
from registry.audit.service import AuditContext, record_event
from registry.core.csvfile import csv_writer
from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.matching.identity import (
    move_records,
    new_person,
    record_link_event,
    refuse_joining_identifiers,
    refuse_split_identifiers,
)
from registry.matching.locks import lock_identities
from registry.matching.review_scope import ITEM_JOINS, VISIBLE_ITEM
from registry.matching.schemas import (
    LinkEventView,
    MergeResult,
    PersonHistory,
    RecordVersionView,
    ReviewDecision,
    SplitResult,
)
from registry.persons.scope import person_in_scope, scope_params, visible_person

STEWARD = "steward"
DECISIONS = ("match", "non_match")
#: A decision's note: kept with the decision (match_candidate.note, link_event.reason), never
#: copied into the audit trail.
NOTE_MAX: Final = 2000

#: A review item to decide, locked, if the caller may see it (every person it shows in scope).
_ITEM_TO_DECIDE = f"""
SELECT m.id, m.status, m.source_record_id, m.candidate_person_id, r.person_id, m.score,
       p.status AS candidate_status
FROM match_candidate m {ITEM_JOINS}
JOIN person p ON p.id = m.candidate_person_id
WHERE m.id = :id AND {VISIBLE_ITEM}
FOR UPDATE OF m, r
"""


def decide_review(
    session: Session,
    principal: Principal,
    review_id: int,
    *,
    decision: str,
    note: str | None,
    audit: AuditContext,
) -> ReviewDecision:
    """Settle a review: 'match' joins the record to the person, 'non_match' keeps it apart.

    Writes the link event (with the note as its reason and the item's score) and the
    `review.decision` audit event naming both sides; the note stays out of the trail.
    """
    principal.require(STEWARD)
    lock_identities(session)
    item = (
        session.execute(text(_ITEM_TO_DECIDE), {"id": review_id, **scope_params(principal)})
        .mappings()
        .first()
    )
    if item is None:  # before the input's checks: out of scope is absent, whatever was sent
        raise NotFound("no such review item")
    if decision not in DECISIONS:
        raise InvalidInput("decision must be 'match' or 'non_match'")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput(f"note must be at most {NOTE_MAX} characters")
    if item["status"] != "pending":
        raise Conflict(f"review item {review_id} was already decided ({item['status']})")
    if item["candidate_status"] != "active":
        raise Conflict("the candidate person has since been merged; the item is out of date")
    record_id = int(item["source_record_id"])
    candidate: uuid.UUID = item["candidate_person_id"]
    holder: uuid.UUID = item["person_id"]
    if decision == "match":
        person = _decide_match(session, record_id, holder, candidate)
    else:
        person = _decide_non_match(session, record_id, holder, candidate)
    session.execute(
        text(
            "UPDATE match_candidate SET status = :status, decided_by = :actor, "
            "decided_at = now(), note = :note WHERE id = :id"
        ),
        {"status": decision, "actor": principal.subject, "note": note, "id": review_id},
    )
    record_link_event(
        session,
        decision,
        person_id=person,
        other_person_id=candidate if person != candidate else holder,
        record_ids=[record_id],
        actor=principal.subject,
        reason=note,
        details={"review_id": review_id, "score": round(float(item["score"]), 3)},
    )
    sides = decision_sides(session, review_id, str(person))
    record_event(
        session,
        audit,
        "review.decision",
        person_ids=sides.person_ids,
        record_ids=sides.record_ids,
        detail={"review_id": review_id, "decision": decision},
    )
    return ReviewDecision(review_id, decision, str(person))


def _decide_match(
    session: Session, record_id: int, holder: uuid.UUID, candidate: uuid.UUID
) -> uuid.UUID:
    """Join the record to the candidate person; other open items for the record are settled."""
    if holder != candidate:
        refuse_split_identifiers(session, [record_id], holder)
        refuse_joining_identifiers(session, [record_id], candidate)
        move_records(session, [record_id], candidate)
    else:
        session.execute(
            text("UPDATE source_record SET link_method = 'manual' WHERE id = :id"),
            {"id": record_id},
        )
    session.execute(
        text(
            "UPDATE match_candidate SET status = 'superseded' "
            "WHERE source_record_id = :id AND status = 'pending' AND candidate_person_id <> :p"
        ),
        {"id": record_id, "p": candidate},
    )
    return candidate


def _decide_non_match(
    session: Session, record_id: int, holder: uuid.UUID, candidate: uuid.UUID
) -> uuid.UUID:
    """Keep the record apart from the candidate; if it was linked provisionally, undo that."""
    if holder != candidate:
        return holder
    refuse_split_identifiers(session, [record_id], holder)
    person = new_person(session)
    move_records(session, [record_id], person)
    return person


def merge_persons(
    session: Session, principal: Principal, person_id: str, other_id: str, *, reason: str
) -> MergeResult:
    """Merge `other` into `person`: records, episodes and IDs move; `other` points here."""
    principal.require(STEWARD)
    lock_identities(session)
    survivor = person_in_scope(session, principal, person_id)
    other = person_in_scope(session, principal, other_id)
    if survivor == other:
        raise InvalidInput("a person cannot be merged with itself")
    _lock_persons(session, [survivor, other])
    holders = session.execute(
        text("SELECT count(DISTINCT person_id) FROM person_identifier WHERE person_id IN (:a, :b)"),
        {"a": survivor, "b": other},
    ).scalar_one()
    if holders == 2:
        raise Conflict("both persons hold a national ID; merging them would join two IDs")
    record_ids = _record_ids_of(session, other)
    move_records(session, record_ids, survivor)
    session.execute(
        text(
            "UPDATE person SET status = 'merged', merged_into = :s, updated_at = now() "
            "WHERE id = :o"
        ),
        {"s": survivor, "o": other},
    )
    session.execute(
        text(
            "UPDATE match_candidate SET status = 'superseded' WHERE status = 'pending' "
            "AND candidate_person_id = :o"
        ),
        {"o": other},
    )
    record_link_event(
        session,
        "merge",
        person_id=survivor,
        other_person_id=other,
        record_ids=record_ids,
        actor=principal.subject,
        reason=reason,
    )
    return MergeResult(str(survivor), str(other), len(record_ids))


def split_person(
    session: Session,
    principal: Principal,
    person_id: str,
    source_records: list[dict[str, str]],
    *,
    reason: str,
) -> SplitResult:
    """Move some of a person's records to a new person; the pair is remembered as a non-match."""
    principal.require(STEWARD)
    lock_identities(session)
    person = person_in_scope(session, principal, person_id)
    _lock_persons(session, [person])
    held = _record_ids_of(session, person, with_keys=True)
    wanted = {(r.get("programme", ""), r.get("source_id", "")) for r in source_records}
    unknown = wanted - set(held)
    if unknown:
        names = ", ".join(f"{p}/{s}" for p, s in sorted(unknown))
        raise InvalidInput(f"not records of this person: {names}")
    if not wanted or len(wanted) == len(held):
        raise InvalidInput("split moves some, not all, of the person's source records")
    record_ids = [held[k] for k in sorted(wanted)]
    refuse_split_identifiers(session, record_ids, person)
    split_off = new_person(session)
    move_records(session, record_ids, split_off)
    session.execute(
        text(
            "INSERT INTO match_candidate (source_record_id, candidate_person_id, reason, score, "
            "weights, status, decided_by, decided_at, note) "
            "SELECT id, :p, 'split', 0, '{}'::jsonb, 'non_match', :actor, now(), :reason "
            "FROM unnest(CAST(:ids AS bigint[])) AS id"
        ),
        {"p": person, "actor": principal.subject, "reason": reason, "ids": record_ids},
    )
    record_link_event(
        session,
        "split",
        person_id=person,
        other_person_id=split_off,
        record_ids=record_ids,
        actor=principal.subject,
        reason=reason,
    )
    return SplitResult(str(person), str(split_off), len(record_ids))


#: A person's link events, with the acting user's name and a review decision's score (the
#: item's, for events written before the score was kept in the details).
_HISTORY_EVENTS = """
SELECT e.id, e.kind, e.person_id::text, e.other_person_id::text, e.source_record_ids, e.actor,
       u.username AS actor_name, e.reason, e.details, e.occurred_at,
       CASE WHEN e.kind IN ('match', 'non_match')
            THEN COALESCE(CAST(e.details ->> 'score' AS double precision), m.score) END AS score
FROM link_event e
LEFT JOIN app_user u ON e.actor = 'user:' || u.id
LEFT JOIN match_candidate m ON e.kind IN ('match', 'non_match')
     AND m.id = CAST(e.details ->> 'review_id' AS bigint)
WHERE e.person_id = :p OR e.other_person_id = :p
ORDER BY e.id DESC
"""


def person_history(session: Session, principal: Principal, person_id: str) -> PersonHistory:
    """Link events, merges, splits and every received version of the person's records."""
    principal.require("oversight", STEWARD)
    key = visible_person(session, principal, person_id)
    events = (
        session.execute(
            text(_HISTORY_EVENTS),
            {"p": key},
        )
        .mappings()
        .all()
    )
    versions = (
        session.execute(
            text(
                "SELECT g.code AS programme, r.source_id, v.version, v.retracted, v.received_at, "
                "b.batch_id FROM source_record r JOIN programme g ON g.id = r.programme_id "
                "JOIN source_record_version v ON v.source_record_id = r.id "
                "JOIN feed_batch b ON b.id = v.feed_batch_id "
                "WHERE r.person_id = :p ORDER BY v.received_at DESC, v.id DESC"
            ),
            {"p": key},
        )
        .mappings()
        .all()
    )
    status = session.execute(
        text("SELECT status, merged_into::text FROM person WHERE id = :p"), {"p": key}
    ).one()
    return PersonHistory(
        person_id=str(key),
        status=status[0],
        merged_into=status[1],
        events=[
            LinkEventView(**{**dict(e), "occurred_at": e["occurred_at"].isoformat()})
            for e in events
        ],
        versions=[
            RecordVersionView(**{**dict(v), "received_at": v["received_at"].isoformat()})
            for v in versions
        ],
    )


def export_links(session: Session, principal: Principal) -> Iterator[str]:
    """CSV lines programme,source_id,person_id,method,score of the caller's regions."""
    principal.require(STEWARD, "admin")
    everything = principal.all_regions
    result = session.execute(
        text(
            "SELECT g.code, r.source_id, r.person_id::text, r.link_method, r.link_score "
            "FROM source_record r JOIN programme g ON g.id = r.programme_id "
            "WHERE NOT r.retracted AND (:all OR r.region = ANY(:regions)) "
            "ORDER BY g.code, r.source_id"
        ).execution_options(yield_per=5000),
        {"all": everything, "regions": sorted(principal.regions)},
    )
    yield "programme,source_id,person_id,method,score\r\n"
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    for row in result:
        writer.writerow([*row[:4], "" if row[4] is None else f"{row[4]:.3f}"])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _lock_persons(session: Session, persons: list[uuid.UUID]) -> None:
    session.execute(
        text("SELECT id FROM person WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
        {"ids": persons},
    )


def _record_ids_of(session: Session, person: uuid.UUID, with_keys: bool = False) -> Any:
    rows = session.execute(
        text(
            "SELECT r.id, g.code, r.source_id FROM source_record r "
            "JOIN programme g ON g.id = r.programme_id WHERE r.person_id = :p ORDER BY r.id"
        ),
        {"p": person},
    ).all()
    if with_keys:
        return {(code, source_id): int(rid) for rid, code, source_id in rows}
    return [int(rid) for rid, _, _ in rows]
