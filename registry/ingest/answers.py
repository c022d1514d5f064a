"""A batch's answer (API.md): built from the per-record outcomes, stored, replayed, read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from registry.core.db import execute_script
from registry.core.errors import Conflict, NotFound
from registry.ingest import queries
from registry.ingest.models import FeedBatch
from registry.ingest.validation import Issue, ValidRecord
from registry.programmes.models import Programme


@dataclass(frozen=True)
class Outcome:
    """What happened to one valid record: action, person, link method, score, review."""

    action: str
    person_id: str | None
    method: str | None
    score: float | None
    review: bool


@dataclass(frozen=True)
class Problem:
    """One error or warning about a record: the field, the rule's code, a message."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class RecordResult:
    """One record's result: rejected with errors, or its status and person (and warnings).

    On the wire a rejected result carries `errors` and no link; any other carries
    `person_id`, `method` and `score` (null when none); `warnings` only when there are any.
    """

    source_id: str | None
    status: str
    person_id: str | None = None
    method: str | None = None
    score: float | None = None
    errors: list[Problem] | None = None
    warnings: list[Problem] | None = None

    def as_json(self) -> dict[str, Any]:
        """The result as stored and answered."""
        out: dict[str, Any] = {"source_id": self.source_id, "status": self.status}
        if self.status == "rejected":
            out["errors"] = [_problem_json(p) for p in self.errors or ()]
        else:
            out.update(person_id=self.person_id, method=self.method, score=self.score)
        if self.warnings:
            out["warnings"] = [_problem_json(p) for p in self.warnings]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordResult:
        """A stored result, typed."""
        errors, warnings = data.get("errors"), data.get("warnings")
        return cls(
            source_id=data.get("source_id"),
            status=data["status"],
            person_id=data.get("person_id"),
            method=data.get("method"),
            score=data.get("score"),
            errors=None if errors is None else [Problem(**e) for e in errors],
            warnings=None if warnings is None else [Problem(**w) for w in warnings],
        )


@dataclass(frozen=True)
class BatchAnswer:
    """The answer to a batch: counts, then one result per record in the order they came."""

    batch_id: str
    received: int
    accepted: int
    rejected: int
    unchanged: int
    results: list[RecordResult]
    #: A test delivery's answer (`?dry_run=true`): what the batch would get; nothing was kept.
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        """The answer as stored and answered (API.md); `dry_run` only on a test delivery's."""
        out: dict[str, Any] = {
            "batch_id": self.batch_id,
            "received": self.received,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "results": [r.as_json() for r in self.results],
        }
        if self.dry_run:
            out["dry_run"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchAnswer:
        """A stored answer, typed."""
        return cls(
            batch_id=data["batch_id"],
            received=data["received"],
            accepted=data["accepted"],
            rejected=data["rejected"],
            unchanged=data["unchanged"],
            results=[RecordResult.from_json(r) for r in data["results"]],
        )

    def linked(self) -> list[RecordResult]:
        """The results that name a person."""
        return [r for r in self.results if r.person_id]


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"field": problem.field, "code": problem.code, "message": problem.message}


def _problems(issues: list[Issue]) -> list[Problem]:
    return [Problem(i["field"], i["code"], i["message"]) for i in issues]


_STATUS = {"unchanged": "unchanged", "retract": "retracted"}


def _result(source_id: str, outcome: Outcome) -> RecordResult:
    action, person_id, method = outcome.action, outcome.person_id, outcome.method
    if action == "unknown":
        problem = Problem(
            "source_id", "unknown_source_id", "cannot retract a record that was never received"
        )
        return RecordResult(source_id, "rejected", errors=[problem])
    status = _STATUS.get(action) or (
        "created" if method == "new" and action == "create" else "linked"
    )
    if action == "update" and method == "new":
        status = "linked"
    if outcome.review and action == "create":
        status = "review"
    return RecordResult(source_id, status, person_id, method, outcome.score)


Checked = tuple[ValidRecord | None, list[Issue], list[Issue]]


def build_answer(
    batch_id: str,
    records: list[Any],
    checked: list[Checked],
    valid: dict[int, ValidRecord],
    rejected: dict[int, list[Issue]],
    outcomes: dict[int, Outcome],
) -> BatchAnswer:
    """The batch answer of API.md, results in the order the records came."""
    results: list[RecordResult] = []
    for ord_, raw in enumerate(records):
        warnings = _problems(checked[ord_][2]) or None
        if ord_ in valid:
            result = replace(_result(valid[ord_].source_id, outcomes[ord_]), warnings=warnings)
        else:
            source_id = raw.get("source_id") if isinstance(raw, dict) else None
            result = RecordResult(
                source_id if isinstance(source_id, str) else None,
                "rejected",
                errors=_problems(rejected[ord_]),
                warnings=warnings,
            )
        results.append(result)
    counts = {"rejected": 0, "unchanged": 0}
    for result in results:
        if result.status in counts:
            counts[result.status] += 1
    return BatchAnswer(
        batch_id=batch_id,
        received=len(records),
        accepted=len(records) - counts["rejected"] - counts["unchanged"],
        rejected=counts["rejected"],
        unchanged=counts["unchanged"],
        results=results,
    )


_STORE_ANSWER = """
UPDATE feed_batch SET received = :r, accepted = :a, rejected = :x, unchanged = :u,
    response = CAST(:resp AS jsonb)
WHERE id = :id
"""


def store_answer(
    session: Session, programme: Programme, feed_batch_id: int, answer: BatchAnswer
) -> None:
    """Keep the batch's answer and its per-record issues (one round trip)."""
    issues = [
        {"source_id": result.source_id, "severity": severity, **_problem_json(problem)}
        for result in answer.results
        for severity, problems in (("error", result.errors), ("warning", result.warnings))
        for problem in problems or ()
    ]
    params: dict[str, Any] = {
        "feed_batch_id": feed_batch_id,
        "programme_id": programme.id,
        "rows": json.dumps(issues, ensure_ascii=False),
        "r": answer.received,
        "a": answer.accepted,
        "x": answer.rejected,
        "u": answer.unchanged,
        "resp": json.dumps(answer.as_json()),
        "id": feed_batch_id,
    }
    execute_script(session, [*([queries.INSERT_ISSUES] if issues else []), _STORE_ANSWER], params)


def _batch(programme: Programme, batch_id: str) -> Select[FeedBatch]:
    return select(FeedBatch).where(
        FeedBatch.programme_id == programme.id, FeedBatch.batch_id == batch_id
    )


def stored_answer(
    session: Session, programme: Programme, batch_id: str, digest: bytes
) -> BatchAnswer:
    """The first answer to a re-sent batch, or 409 if its content differs."""
    batch = session.scalars(_batch(programme, batch_id)).one()
    if bytes(batch.content_hash) != digest or batch.response is None:
        raise Conflict(f"batch {batch_id!r} was already received with other content")
    return BatchAnswer.from_json(batch.response)


def get_batch_answer(session: Session, programme: Programme, batch_id: str) -> BatchAnswer:
    """The stored answer of a received batch."""
    batch = session.scalars(_batch(programme, batch_id)).one_or_none()
    if batch is None or batch.response is None:
        raise NotFound(f"batch {batch_id!r} was not received")
    return BatchAnswer.from_json(batch.response)
