"""A feed's data-quality report ("godkendelsesrapport"): recipients, error lists, data breaks."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import Forbidden, InvalidInput
from registry.overview.declared_breaks import declared_breaks
from registry.overview.disclosure import DEFAULT_K, suppress_cells
from registry.overview.findings import status_findings
from registry.overview.queries import system_time
from registry.overview.receiving import receiving_sql
from registry.overview.schemas import (
    ActiveCountJump,
    BatchActiveCount,
    BreakRules,
    DataBreaks,
    ErrorList,
    FeedErrorItem,
    QualityReport,
    QuarterRecipients,
    StartDateSpike,
)
from registry.programmes.service import get_programme
from registry.programmes.switch import list_switches

QUALITY_READERS = ("feed", "steward", "oversight")
#: A programme's first load: its first batch and the batches following it, each within this
#: long of the one before (a caseload sent in chunks arrives back to back).
FIRST_LOAD_GAP = timedelta(hours=1)

#: Error categories of the report, from the (field, code) rows validation writes to feed_error.
CATEGORY_SQL = """CASE
    WHEN fe.code = 'end_before_start' THEN 'end_before_start'
    WHEN fe.code = 'future_end_date' THEN 'future_end_date'
    WHEN fe.field = 'enrolment.start_date' AND fe.code = 'required' THEN 'missing_start_date'
    WHEN fe.field = 'enrolment.start_date' THEN 'invalid_start_date'
    WHEN fe.field = 'enrolment.benefit_code' THEN 'invalid_benefit_code'
    WHEN fe.field = 'enrolment.target_group' THEN 'invalid_target_group'
    WHEN fe.code = 'national_id_sex_mismatch' THEN 'sex_mismatch'
    WHEN fe.code = 'legal_basis_mismatch' THEN 'legal_basis_mismatch'
    ELSE 'other' END"""

CATEGORIES = (
    "invalid_benefit_code",
    "invalid_target_group",
    "missing_start_date",
    "invalid_start_date",
    "end_before_start",
    "future_end_date",
    "sex_mismatch",
    "legal_basis_mismatch",
    "other",
)

RECIPIENTS = """
WITH quarters AS (
    SELECT CAST(q AS date) AS qs, CAST(q + interval '3 months' - interval '1 day' AS date) AS qe
    FROM generate_series(date_trunc('quarter', CAST(:from AS date)), CAST(:to AS date),
                         interval '3 months') AS q
)
SELECT q.qs, q.qe, e.benefit_code, count(DISTINCT gp.id) AS persons
FROM quarters q
JOIN enrolment e ON e.programme_id = :programme_id
     AND e.start_date <= q.qe AND (e.end_date IS NULL OR e.end_date >= q.qs)
JOIN source_record r ON r.id = e.source_record_id
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
WHERE {system_time} AND RECEIVING
GROUP BY q.qs, q.qe, e.benefit_code
ORDER BY q.qs, e.benefit_code
""".replace("RECEIVING", receiving_sql("e"))

ERRORS = f"""
SELECT * FROM (
    SELECT {CATEGORY_SQL} AS category, fe.severity, fe.field, fe.code, fe.source_id,
           fe.message, b.batch_id, b.received_at,
           count(*) OVER (PARTITION BY {CATEGORY_SQL}) AS total,
           count(*) FILTER (WHERE fe.severity = 'error')
               OVER (PARTITION BY {CATEGORY_SQL}) AS errors,
           row_number() OVER (PARTITION BY {CATEGORY_SQL} ORDER BY fe.id DESC) AS rank
    FROM feed_error fe JOIN feed_batch b ON b.id = fe.feed_batch_id
    WHERE fe.programme_id = :programme_id
      AND b.received_at >= CAST(:from AS date) AND b.received_at < CAST(:to AS date) + 1
) x WHERE rank <= :per_category
ORDER BY category, rank
"""

START_SPIKES = """
WITH days AS (
    SELECT e.start_date AS day, count(*) AS n
    FROM enrolment e JOIN source_record r ON r.id = e.source_record_id
    WHERE e.programme_id = :programme_id AND {system_time}
    GROUP BY e.start_date
), typical AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS median FROM days)
SELECT d.day, d.n, t.median, (SELECT sum(n) FROM days) AS all_starts
FROM days d CROSS JOIN typical t
WHERE d.n >= :spike_min AND d.n >= :spike_factor * t.median
ORDER BY d.day
"""

#: The programme's receiving persons and enrolments on a day, counted over the rows visible at a
#: system time (`:at` = NULL: the current rows).
ACTIVE_COUNT = """
SELECT count(DISTINCT COALESCE(p.merged_into, p.id)) AS persons, count(*) AS enrolments
FROM enrolment e JOIN person p ON p.id = e.person_id
WHERE e.programme_id = {programme}
  AND e.start_date <= {day} AND (e.end_date IS NULL OR {day} <= e.end_date)
  AND {system_time} AND RECEIVING
""".replace("RECEIVING", receiving_sql("e"))

BATCH_COUNTS = f"""
SELECT b.id, b.batch_id, b.received_at,
       COALESCE(c.as_of, CAST(b.received_at AS date)) AS as_of,
       COALESCE(c.active_persons, x.persons) AS persons,
       COALESCE(c.active_enrolments, x.enrolments) AS enrolments,
       c.feed_batch_id IS NOT NULL AS stored,
       b.id = (SELECT min(id) FROM feed_batch WHERE programme_id = :programme_id) AS first
FROM (SELECT * FROM feed_batch WHERE programme_id = :programme_id
      ORDER BY id DESC LIMIT :batches) b
LEFT JOIN batch_active_count c ON c.feed_batch_id = b.id
LEFT JOIN LATERAL ({
    ACTIVE_COUNT.format(
        programme="b.programme_id",
        day="CAST(b.received_at AS date)",
        system_time="e.recorded_at <= b.received_at "
        "AND (e.superseded_at IS NULL OR e.superseded_at > b.received_at)",
    )
}) x ON c.feed_batch_id IS NULL
ORDER BY b.id
"""

RECORD_COUNT = f"""
INSERT INTO batch_active_count (feed_batch_id, programme_id, as_of, active_persons,
                                active_enrolments)
SELECT :feed_batch_id, :programme_id, CURRENT_DATE, x.persons, x.enrolments
FROM ({
    ACTIVE_COUNT.format(
        programme=":programme_id", day="CURRENT_DATE", system_time="e.superseded_at IS NULL"
    )
}) x
ON CONFLICT (feed_batch_id) DO UPDATE SET as_of = EXCLUDED.as_of,
    active_persons = EXCLUDED.active_persons, active_enrolments = EXCLUDED.active_enrolments,
    taken_at = now()
"""


LATEST_COUNT_RECENT = """
SELECT EXISTS (SELECT 1 FROM (SELECT taken_at FROM batch_active_count
                              WHERE programme_id = :programme_id
                              ORDER BY feed_batch_id DESC LIMIT 1) x
               WHERE x.taken_at > now() - make_interval(secs => :seconds))
"""


def record_batch_active_count(
    session: Session, programme_id: int, feed_batch_id: int, min_interval_seconds: int = 0
) -> bool:
    """Store the programme's active persons and enrolments after a batch, at most so often.

    The count reads every current episode of the programme, so at national scale it costs
    more than a small batch itself: within `min_interval_seconds` of the last stored count
    it is skipped (the report then counts that batch from system time, exactly).
    """
    params = {"programme_id": programme_id, "feed_batch_id": feed_batch_id}
    if (
        min_interval_seconds > 0
        and session.execute(
            text(LATEST_COUNT_RECENT), {**params, "seconds": min_interval_seconds}
        ).scalar()
    ):
        return False
    session.execute(text(RECORD_COUNT), params)
    return True


def _readable(principal: Principal, code: str) -> None:
    """Stewards and oversight read every programme's report; a feed client only its own."""
    principal.require(*QUALITY_READERS)
    if not principal.has_any("steward", "oversight") and code not in principal.programmes:
        raise Forbidden(f"this client may not read programme {code!r}")


def quality_report(
    session: Session,
    principal: Principal,
    code: str,
    start: date | None = None,
    end: date | None = None,
    *,
    recorded_at: datetime | None = None,
    per_category: int = 100,
    spike_factor: float = 10.0,
    spike_min: int = 10,
    jump_ratio: float = 0.2,
    jump_min: int = 10,
    batches: int = 100,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> QualityReport:
    """Recipients per quarter and benefit code, error lists, detected data breaks, findings."""
    _readable(principal, code)
    programme = get_programme(session, code)
    end = end or date.today()
    start = start or date(end.year - 1, 1, 1)
    if end < start or (end - start).days > 366 * 30:
        raise InvalidInput("`from` must be before `to`, at most 30 years apart")
    if not (1 <= per_category <= 10_000 and 1 <= batches <= 10_000):
        raise InvalidInput("per_category and batches must be between 1 and 10000")
    condition, params = system_time(recorded_at)
    base = {"programme_id": programme.id, "from": start, "to": end, **params}
    quarters = _recipients(session, condition, base, suppress, k)
    errors = _errors(session, base, per_category)
    spikes = [
        StartDateSpike(
            start_date=r.day.isoformat(),
            enrolments=int(r.n),
            typical_day=float(r.median),
            share=round(int(r.n) / int(r.all_starts), 4),
        )
        for r in session.execute(
            text(START_SPIKES.format(system_time=condition)),
            {**base, "spike_factor": spike_factor, "spike_min": spike_min},
        )
    ]
    rows = session.execute(text(BATCH_COUNTS), {**base, "batches": batches}).all()
    counts = [
        BatchActiveCount(
            batch_id=r.batch_id,
            received_at=r.received_at.isoformat(),
            as_of=r.as_of.isoformat(),
            active_persons=int(r.persons),
            active_enrolments=int(r.enrolments),
            source="stored" if r.stored else "system_time",
        )
        for r in rows
    ]
    first_load = _first_load([(r.batch_id, r.received_at, bool(r.first)) for r in rows])
    # a declared system switch explains its own spike and jump (registry.programmes.switch)
    declared, spikes, jumps = declared_breaks(
        list_switches(session, programme),
        spikes,
        _jumps(counts, jump_ratio, jump_min, first_load),
        {c.batch_id: c.received_at for c in counts},
        recorded_at,
    )
    return QualityReport(
        programme=code,
        start=start.isoformat(),
        end=end.isoformat(),
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        quarters=quarters,
        errors=errors,
        data_breaks=DataBreaks(
            start_date_spikes=spikes,
            active_count_jumps=jumps,
            batch_active_counts=counts,
            rules=BreakRules(
                spike=f"a start date shared by >= {spike_min} episodes and >= {spike_factor}"
                " x the median episodes per start date",
                jump=f"active persons change by >= {jump_min} and >= {jump_ratio:.0%}"
                " between consecutive batches (marked first_load within the programme's first"
                " batch and those following it back to back, each within an hour)",
            ),
            declared_breaks=declared,
        ),
        suppressed=any(q.suppressed for q in quarters),
        findings=status_findings(
            session, programme.id, code, end, (condition, params), suppress, k
        ),
    )


def _recipients(
    session: Session, condition: str, base: dict[str, Any], suppress: bool, k: int
) -> list[QuarterRecipients]:
    """Distinct recipients per quarter and benefit code (suppressed on request)."""
    by_quarter: dict[tuple[date, date], dict[str, int]] = defaultdict(dict)
    for r in session.execute(text(RECIPIENTS.format(system_time=condition)), base):
        by_quarter[(r.qs, r.qe)][r.benefit_code] = int(r.persons)
    quarters: list[QuarterRecipients] = []
    for (qs, qe), cells in sorted(by_quarter.items()):
        shown: dict[str, int | None] = dict(cells)
        hidden = suppress_cells(cells, [list(cells)], k) if suppress else set()
        for key in hidden:
            shown[key] = None
        quarters.append(
            QuarterRecipients(
                quarter=f"{qs.year}Q{(qs.month - 1) // 3 + 1}",
                start=qs.isoformat(),
                end=qe.isoformat(),
                recipients=shown,
                suppressed=bool(hidden),
            )
        )
    return quarters


def _errors(session: Session, base: dict[str, Any], per_category: int) -> dict[str, ErrorList]:
    """Error and warning lists per category, newest first, with the full count."""
    totals = dict.fromkeys(CATEGORIES, 0)
    errors = dict.fromkeys(CATEGORIES, 0)
    items: dict[str, list[FeedErrorItem]] = {c: [] for c in CATEGORIES}
    for r in session.execute(text(ERRORS), {**base, "per_category": per_category}):
        totals[r.category] = int(r.total)
        errors[r.category] = int(r.errors)
        items[r.category].append(
            FeedErrorItem(
                batch_id=r.batch_id,
                received_at=r.received_at.isoformat(),
                source_id=r.source_id,
                severity=r.severity,
                field=r.field,
                code=r.code,
                message=r.message,
            )
        )
    return {
        c: ErrorList(
            count=totals[c], items=items[c], errors=errors[c], warnings=totals[c] - errors[c]
        )
        for c in CATEGORIES
    }


def _first_load(batches: list[tuple[str, datetime, bool]]) -> set[str]:
    """The batch ids of the programme's first load, if its first batch is among `batches`.

    `batches` are (batch id, received at, is the programme's first), oldest first.
    """
    found: set[str] = set()
    previous: datetime | None = None
    for batch_id, received_at, first in batches:
        if first:
            found, previous = {batch_id}, received_at
        elif previous is not None and received_at - previous <= FIRST_LOAD_GAP:
            found.add(batch_id)
            previous = received_at
        elif previous is not None:
            break
    return found


def _jumps(
    counts: list[BatchActiveCount], ratio: float, minimum: int, first_load: set[str]
) -> list[ActiveCountJump]:
    """Consecutive batches whose active persons jump or drop by at least ratio and minimum.

    The first batch has nothing to jump from; a change within the first load is marked so.
    """
    found = []
    for before, after in pairwise(counts):
        prev, now = before.active_persons, after.active_persons
        change = now - prev
        if prev > 0 and abs(change) >= minimum and abs(change) / prev >= ratio:
            found.append(
                ActiveCountJump(
                    batch_id=after.batch_id,
                    previous_batch_id=before.batch_id,
                    before=prev,
                    after=now,
                    change=change,
                    ratio=round(change / prev, 4),
                    kind="jump" if change > 0 else "drop",
                    first_load=after.batch_id in first_load,
                )
            )
    return found
