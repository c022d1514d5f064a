"""The receiving episodes the money and movement answers read, and how they form spells.

One FROM clause (episodes receiving in the sense of `receiving.receiving_sql`, at the
system time asked for) and one spell rule: a person's receiving episodes of one programme
that overlap or touch (the next starts at most one day after the latest end so far) form
one spell; moving between them is no flow.
"""

from __future__ import annotations

from registry.overview.receiving import receiving_sql

#: An open end date, as a date that sorts after every other.
OPEN_END = "DATE 'infinity'"


def receiving_from(system_time: str, persons: bool) -> str:
    """FROM and WHERE over receiving episodes `e`, record `r`, programme `g` (and `gp`)."""
    joins = (
        """
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)"""
        if persons
        else ""
    )
    return f"""
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = e.programme_id{joins}
WHERE {system_time} AND {receiving_sql("e")}"""


def needs_persons(expressions: list[str]) -> bool:
    """True when a dimension's SQL reads the golden record `gp`."""
    return any("gp." in sql for sql in expressions)


#: Per episode `x` (columns pid, prog, s, t) in its (person, programme) ordered by dates:
#: `before` the latest end of the episodes sorted before it, `next_s` the next one's start.
SPELL_WINDOW = """
max(t) OVER (PARTITION BY pid, prog ORDER BY s, t
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
lead(s) OVER (PARTITION BY pid, prog ORDER BY s, t) AS next_s"""

#: The episode opens a spell: nothing before it reaches the day before its start.
OPENS = "(before IS NULL OR before < s - 1)"
#: The episode closes a spell: it holds the latest end so far and nothing starts by the next day.
CLOSES = "(before IS NULL OR t >= before) AND (next_s IS NULL OR next_s > t + 1)"
