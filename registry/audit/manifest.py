"""Audit events naming every person an answer carried: inline, or in a chain-bound manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import groupby
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.audit.anchors import Anchor
from registry.audit.naming import person_key
from registry.audit.schemas import ManifestCheck, TrailCheck
from registry.audit.service import AuditContext, record_event, verify_chain

#: Up to this many persons an event names them itself; beyond, a manifest does.
INLINE_LIMIT = 1_000
#: Person ids per manifest row.
CHUNK = 1_000

#: The event just appended: the chain's head, since this transaction holds the chain's lock.
_OWN_EVENT = "SELECT id, occurred_at FROM audit_event ORDER BY id DESC LIMIT 1"

_WRITE_MANIFEST = """
INSERT INTO audit_manifest (event_id, event_occurred_at, chunk, person_ids)
SELECT :event_id, :occurred_at, CAST((t.n - 1) / :chunk AS integer), array_agg(t.p ORDER BY t.n)
FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS t(p, n)
GROUP BY (t.n - 1) / :chunk
"""

_MANIFESTS = """
SELECT e.id, e.detail -> 'manifest' AS summary, m.chunk,
       CAST(m.person_ids AS text[]) AS person_ids
FROM audit_event e
LEFT JOIN audit_manifest m ON m.event_id = e.id AND m.event_occurred_at = e.occurred_at
WHERE e.detail -> 'manifest' IS NOT NULL
ORDER BY e.id, m.chunk
"""

_ORPHANS = """
SELECT min(m.event_id) FROM audit_manifest m
WHERE NOT EXISTS (
    SELECT 1 FROM audit_event e
    WHERE e.id = m.event_id AND e.occurred_at = m.event_occurred_at
      AND e.detail -> 'manifest' IS NOT NULL
)
"""


def manifest_digest(person_ids: Iterable[str]) -> str:
    """sha256 of the person ids in manifest order, one per line."""
    return hashlib.sha256("".join(f"{p}\n" for p in person_ids).encode()).hexdigest()


def record_naming(
    session: Session,
    context: AuditContext,
    action: str,
    *,
    person_ids: Iterable[str],
    record_ids: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
    inline_limit: int = INLINE_LIMIT,
) -> None:
    """Append one event naming every person an answer carried, in the caller's transaction.

    Up to `inline_limit` persons go into the event's `person_ids`; beyond it the person ids
    (as UUIDs) go to `audit_manifest` and the event's `detail.manifest` holds their count,
    chunk count and sha256, so the hash chain binds the manifest. A person id that is not a
    UUID always stays in the event.
    """
    if not context.enabled:
        return
    named = {p for p in person_ids if p}
    if len(named) <= inline_limit:
        record_event(
            session, context, action, person_ids=named, record_ids=record_ids, detail=detail
        )
        return
    keys = [(p, person_key(p)) for p in named]
    listed = sorted({k for _, k in keys if k is not None})
    summary = {
        "persons": len(listed),
        "chunks": -(-len(listed) // CHUNK),
        "sha256": manifest_digest(listed),
    }
    record_event(
        session,
        context,
        action,
        person_ids=[p for p, k in keys if k is None],
        record_ids=record_ids,
        detail={**(detail or {}), "manifest": summary},
    )
    if listed:
        _write_manifest(session, listed)


def _write_manifest(session: Session, listed: Sequence[str]) -> None:
    """The manifest rows of the event this transaction just appended (one statement)."""
    event_id, occurred_at = session.execute(text(_OWN_EVENT)).one()
    session.execute(
        text(_WRITE_MANIFEST),
        {
            "event_id": event_id,
            "occurred_at": occurred_at,
            "chunk": CHUNK,
            "ids": "{" + ",".join(listed) + "}",
        },
    )


def verify_manifests(session: Session) -> ManifestCheck:
    """Recompute every manifest against its event's count and sha256; name the first that differs.

    A manifest row that no event claims (added afterwards, or its event's row altered) counts
    as broken too.
    """
    checked = 0
    rows = session.execute(text(_MANIFESTS).execution_options(yield_per=100))
    for event_id, group in groupby(rows, key=lambda row: int(row[0])):
        expected: dict[str, Any] = {}
        digest = hashlib.sha256()
        persons = chunks = 0
        for _, summary, _, person_ids in group:
            expected = dict(summary or {})
            for person in person_ids or ():
                digest.update(person.encode() + b"\n")
            persons += len(person_ids or ())
            chunks += person_ids is not None
        found = {"persons": persons, "chunks": chunks, "sha256": digest.hexdigest()}
        if {k: expected.get(k) for k in found} != found:
            return ManifestCheck(checked, manifest_broken=event_id)
        checked += 1
    orphan = session.execute(text(_ORPHANS)).scalar()
    if orphan is not None:
        return ManifestCheck(checked, manifest_broken=int(orphan))
    return ManifestCheck(checked)


def verify_trail(session: Session, anchors: Sequence[Anchor] = ()) -> TrailCheck:
    """The whole trail: the chain (from genesis, its months, the anchors), then every manifest."""
    outcome = verify_chain(session, anchors)
    if not outcome.ok:
        return outcome
    manifests = verify_manifests(session)
    checked = replace(outcome, manifests_checked=manifests.manifests_checked)
    broken = manifests.manifest_broken
    if broken is None:
        return checked
    problem = f"the manifest of event {broken} does not match what the event recorded"
    return replace(checked, ok=False, manifest_broken=broken, problems=[*outcome.problems, problem])
