"""Quality findings on a programme's current episodes: statuses that contradict their dates,
statuses outside the vocabulary, and recipients under 18 in adult-area benefits.

DST names wrong statuses among the common reporting errors; each rule here is one such
contradiction, judged on the report's date (`to`). One set-based statement finds every rule's
episodes; each finding carries its count and a sample of the records' source ids (the report's
readers see source ids already: the programme's own feed client, stewards, oversight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.codelists.loader import benefit_codes
from registry.overview.disclosure import small
from registry.overview.receiving import BESIDE_STATUSES, RECEIVING_STATUSES
from registry.overview.schemas import QualityFinding

#: A pending episode is flagged once its start date lies this many days before the report's date.
PENDING_DAYS = 90
#: Source ids named per finding, at most.
SAMPLE = 10
#: The status vocabulary (a missing status means active).
VOCABULARY = (*RECEIVING_STATUSES, *BESIDE_STATUSES)


@dataclass(frozen=True)
class Rule:
    """One finding: its code, severity, condition on the episode `e` (and person `gp`), words."""

    code: str
    severity: str
    condition: str
    words: str


_VOCABULARY_SQL = ", ".join(f"'{s}'" for s in VOCABULARY)

RULES = (
    Rule(
        "ended_without_end_date",
        "error",
        "e.status = 'ended' AND e.end_date IS NULL",
        "status `ended` but no end date",
    ),
    Rule(
        "ended_after_report_date",
        "warning",
        "e.status = 'ended' AND e.end_date > CAST(:day AS date)",
        "status `ended` but the end date is after the report's date",
    ),
    Rule(
        "active_with_past_end_date",
        "error",
        "e.status = 'active' AND e.end_date < CAST(:day AS date)",
        "status `active` but the end date is before the report's date",
    ),
    Rule(
        "active_before_start",
        "warning",
        "e.status = 'active' AND e.start_date > CAST(:day AS date)",
        "status `active` but the start date is after the report's date",
    ),
    Rule(
        "pending_too_long",
        "warning",
        "e.status = 'pending' AND e.start_date < CAST(:day AS date) - :pending_days",
        f"status `pending` with a start date more than {PENDING_DAYS} days before the"
        " report's date",
    ),
    Rule(
        "unknown_status",
        "error",
        f"e.status IS NOT NULL AND e.status NOT IN ({_VOCABULARY_SQL})",
        f"a status outside the vocabulary ({', '.join(VOCABULARY)}): counted nowhere",
    ),
    Rule(
        "under_18_in_adult_benefit",
        "error",
        "e.benefit_code = ANY(:adult_codes)"
        " AND CAST(COALESCE(r.birth_date, gp.birth_date) + interval '18 years' AS date)"
        " > e.start_date",
        "recipient under 18 at the episode's start in an adult-area (L402) benefit",
    ),
)

#: Every finding's code, in the report's order.
FINDING_CODES = tuple(r.code for r in RULES)

_CASES = ",\n        ".join(f"CASE WHEN {r.condition} THEN '{r.code}' END" for r in RULES)

FINDINGS = f"""
WITH flagged AS (
    SELECT f.code, r.source_id
    FROM enrolment e
    JOIN source_record r ON r.id = e.source_record_id
    JOIN person p ON p.id = e.person_id
    JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
    CROSS JOIN LATERAL unnest(ARRAY[
        {_CASES}
    ]) AS f(code)
    WHERE e.programme_id = :programme_id AND {{system_time}} AND f.code IS NOT NULL
), ranked AS (
    SELECT code, source_id, count(*) OVER (PARTITION BY code) AS n,
           row_number() OVER (PARTITION BY code ORDER BY source_id) AS rank
    FROM flagged
)
SELECT code, max(n) AS n, array_agg(source_id ORDER BY source_id) AS sample
FROM ranked WHERE rank <= :sample
GROUP BY code
"""


def adult_benefit_codes() -> list[str]:
    """The benefit codes of the adult area: the shipped L402 benefit list."""
    return sorted(benefit_codes())


def status_findings(
    session: Session,
    programme_id: int,
    code: str,
    day: date,
    system_time: tuple[str, dict[str, Any]],
    suppress: bool,
    k: int,
) -> list[QualityFinding]:
    """Every rule's episodes of the programme on `day`: count and sample source ids.

    With `suppress` the counts below k are hidden and no source id is named.
    """
    condition, params = system_time
    found = {
        r.code: (int(r.n), list(r.sample))
        for r in session.execute(
            text(FINDINGS.format(system_time=condition)),
            {
                "programme_id": programme_id,
                "day": day,
                "pending_days": PENDING_DAYS,
                "adult_codes": adult_benefit_codes(),
                "sample": SAMPLE,
                **params,
            },
        )
    }
    out = []
    for rule in RULES:
        count, sample = found.get(rule.code, (0, []))
        out.append(
            QualityFinding(
                code=rule.code,
                programme=code,
                severity=rule.severity,
                rule=rule.words,
                count=None if suppress and small(count, k) else count,
                source_ids=None if suppress else sample,
            )
        )
    return out
