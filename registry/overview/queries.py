"""Set-based SQL for the overview: one aggregate statement per answer."""

from __future__ import annotations

#: Each dimension's SQL expression over enrolment `e`, programme `g` and golden record `gp`.
DIMENSION_SQL: dict[str, str] = {
    "programme": "g.code",
    "region": "e.region",
    "sex": "gp.sex",
    "age_band": """CASE
        WHEN gp.birth_date IS NULL THEN NULL
        WHEN date_part('year', age(CAST(:as_of AS date), gp.birth_date)) < 18 THEN '0-17'
        WHEN date_part('year', age(CAST(:as_of AS date), gp.birth_date)) < 30 THEN '18-29'
        WHEN date_part('year', age(CAST(:as_of AS date), gp.birth_date)) < 50 THEN '30-49'
        WHEN date_part('year', age(CAST(:as_of AS date), gp.birth_date)) < 67 THEN '50-66'
        WHEN date_part('year', age(CAST(:as_of AS date), gp.birth_date)) < 80 THEN '67-79'
        ELSE '80+' END""",
    "benefit_code": "e.benefit_code",
}

#: The current system-time rows: not superseded, and the record not retracted.
CURRENT = "e.superseded_at IS NULL AND NOT r.retracted"

#: The rows as recorded at :recorded_at (ingest supersedes the episode on retraction).
AS_RECORDED = (
    "e.recorded_at <= :recorded_at AND (e.superseded_at IS NULL OR e.superseded_at > :recorded_at)"
)

_ACTIVE_FROM = """
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = e.programme_id
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
WHERE e.start_date <= CAST(:as_of AS date)
  AND (e.end_date IS NULL OR CAST(:as_of AS date) <= e.end_date)
  AND {system_time}
"""


def coverage_sql(dimensions: list[str], system_time: str) -> str:
    """Distinct persons and enrolments per combination of dimensions, plus the grand total."""
    inner = ", ".join(f"{DIMENSION_SQL[d]} AS d{i}" for i, d in enumerate(dimensions))
    cols = ", ".join(f"d{i}" for i in range(len(dimensions)))
    order = ", ".join(f"d{i} NULLS LAST" for i in range(len(dimensions)))
    return f"""
SELECT {cols}, GROUPING({cols}) <> 0 AS is_total,
       count(DISTINCT pid) AS persons, count(*) AS enrolments
FROM (SELECT {inner}, gp.id AS pid {_ACTIVE_FROM.format(system_time=system_time)}) a
GROUP BY GROUPING SETS (({cols}), ())
ORDER BY is_total, {order}
"""


def overlaps_sql(system_time: str) -> str:
    """Persons active in each pair of programmes, and persons by number of programmes."""
    return f"""
WITH pp AS (
    SELECT DISTINCT gp.id AS pid, g.code {_ACTIVE_FROM.format(system_time=system_time)}
), n AS (
    SELECT pid, count(*) AS k FROM pp GROUP BY pid
)
SELECT 'programme' AS kind, code AS a, NULL AS b, 0 AS persons FROM programme
UNION ALL
SELECT 'pair', x.code, y.code, count(*) FROM pp x JOIN pp y ON x.pid = y.pid
GROUP BY x.code, y.code
UNION ALL
SELECT 'count', CAST(k AS text), NULL, count(*) FROM n GROUP BY k
"""
