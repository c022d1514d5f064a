"""The receiving episodes the money and movement answers read, and how they form spells.

One FROM clause (episodes receiving in the sense of `receiving.receiving_sql`, at the
system time asked for) and one spell rule: a person's receiving episodes of one programme
that overlap or touch (the next starts at most one day after the latest end so far) form
one spell; moving between them is no flow.

The FROM clause joins only what the answer reads, since these queries scan millions of
episodes: the record `r` only for a dimension of the record (municipality) — otherwise the
current-rows condition's "record not retracted" is asked of the few retracted records
instead (the same rows) — and the golden record `gp` only for a person attribute (age);
otherwise the resolved person is the episode's person or the one it was merged into (`m`,
the few merged persons).
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.overview.receiving import receiving_sql

#: Memory for one answer's sorts and hashes (the heavy-read limiter bounds how many run).
WORK_MEM = "64MB"
#: An open end date, as a date that sorts after every other.
OPEN_END = "DATE 'infinity'"
#: The resolved person of episode `e` without the golden record (see `receiving_from`).
PID = "COALESCE(m.merged_into, e.person_id)"

_RECORD = re.compile(r"\br\.")
_NOT_RETRACTED = "NOT r.retracted"
_NOT_RETRACTED_BY_ID = "e.source_record_id NOT IN (SELECT id FROM source_record WHERE retracted)"


def reads_record(expressions: list[str]) -> bool:
    """True when an expression reads the source record `r`."""
    return any(_RECORD.search(sql) for sql in expressions)


def needs_persons(expressions: list[str]) -> bool:
    """True when a dimension's SQL reads the golden record `gp`."""
    return any("gp." in sql for sql in expressions)


def receiving_from(
    system_time: str, *, golden: bool = False, ids: bool = False, record: bool = True
) -> str:
    """FROM and WHERE over receiving episodes `e` and programme `g`.

    `record`: join the source record `r`; `golden`: join the golden record `gp` (its id is
    the person); `ids`: the resolved person as `PID`, without the golden record.
    """
    if not record:
        system_time = system_time.replace(_NOT_RETRACTED, _NOT_RETRACTED_BY_ID)
        record = bool(_RECORD.search(system_time))
    joins = "\nJOIN source_record r ON r.id = e.source_record_id" if record else ""
    if golden:
        joins += """
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)"""
    elif ids:
        joins += """
LEFT JOIN (SELECT id, merged_into FROM person WHERE merged_into IS NOT NULL) m
       ON m.id = e.person_id"""
    return f"""
FROM enrolment e
JOIN programme g ON g.id = e.programme_id{joins}
WHERE {system_time} AND {receiving_sql("e")}"""


#: Per episode `x` (columns pid, prog, s, t) in its (person, programme) ordered by dates:
#: `before` the latest end of the episodes sorted before it, `next_s` the next one's start
#: (one window: `lead` reads the partition, not the frame). Use with `SPELL_ORDER`.
SPELL_WINDOW = "max(t) OVER spell AS before, lead(s) OVER spell AS next_s"
SPELL_ORDER = """WINDOW spell AS (PARTITION BY pid, prog ORDER BY s, t
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"""

#: The episode opens a spell: nothing before it reaches the day before its start.
OPENS = "(before IS NULL OR before < s - 1)"
#: The episode closes a spell: it holds the latest end so far and nothing starts by the next day.
CLOSES = "(before IS NULL OR t >= before) AND (next_s IS NULL OR next_s > t + 1)"


def episodes_from(
    system_time: str, expressions: list[str], *, persons: bool, golden: bool = False
) -> tuple[str, str]:
    """The lightest FROM clause for these column expressions, and the resolved person's SQL.

    `persons`: the answer counts persons; `golden`: it reads the golden record (`gp`).
    """
    golden = golden or needs_persons(expressions)
    clause = receiving_from(
        system_time,
        golden=golden,
        ids=persons and not golden,
        record=reads_record(expressions),
    )
    return clause, "gp.id" if golden else (PID if persons else "NULL")


def roomy(session: Session) -> None:
    """Let this transaction's sorts and hashes over millions of episodes stay in memory."""
    session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
