"""Set-based SQL for the overview: one aggregate statement per answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.overview.receiving import BESIDE_STATUSES, receiving_sql

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
    "target_group": "e.target_group",
    "municipality": "r.municipality",
}

#: The current system-time rows: not superseded, and the record not retracted.
CURRENT = "e.superseded_at IS NULL AND NOT r.retracted"

#: The rows as recorded at :recorded_at (ingest supersedes the episode on retraction).
AS_RECORDED = (
    "e.recorded_at <= :recorded_at AND (e.superseded_at IS NULL OR e.superseded_at > :recorded_at)"
)


def system_time(recorded_at: datetime | None) -> tuple[str, dict[str, Any]]:
    """The system-time condition and its parameters: current rows, or as recorded at a time."""
    if recorded_at is None:
        return CURRENT, {}
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return AS_RECORDED, {"recorded_at": recorded_at}


#: The statuses reported beside the receiving counts, as an SQL list.
BESIDE_SQL = ", ".join(f"'{s}'" for s in BESIDE_STATUSES)

#: Episodes covering :as_of that are receiving or beside it (a status outside the
#: vocabulary is neither: the quality report flags it).
_COVERING_FROM = f"""
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = e.programme_id
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
WHERE e.start_date <= CAST(:as_of AS date)
  AND (e.end_date IS NULL OR CAST(:as_of AS date) <= e.end_date)
  AND ({receiving_sql("e")} OR e.status IN ({BESIDE_SQL}))
  AND {{system_time}}
"""

#: Receiving episodes covering :as_of.
_ACTIVE_FROM = f"""
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = e.programme_id
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
WHERE e.start_date <= CAST(:as_of AS date)
  AND (e.end_date IS NULL OR CAST(:as_of AS date) <= e.end_date)
  AND {receiving_sql("e")}
  AND {{system_time}}
"""

#: Each episode's class in the covering rows: receiving, or (else) suspended.
_CLASSES = f"{receiving_sql('e')} AS rcv, e.status = 'suspended' AS sus"

#: Persons by class: each person of a cell counts once, in the first class one of their
#: episodes in the cell has (receiving, suspended, pending), so suspended = |R ∪ S| - |R|.
_BY_CLASS = """count(DISTINCT pid) FILTER (WHERE rcv) AS persons,
       count(*) FILTER (WHERE rcv) AS enrolments,
       count(DISTINCT pid) FILTER (WHERE rcv OR sus)
           - count(DISTINCT pid) FILTER (WHERE rcv) AS suspended,
       count(DISTINCT pid) - count(DISTINCT pid) FILTER (WHERE rcv OR sus) AS pending"""


def coverage_sql(dimensions: list[str], system_time: str) -> str:
    """Receiving persons and enrolments, suspended and pending persons beside, per
    combination of dimensions, plus the grand total."""
    inner = ", ".join(f"{DIMENSION_SQL[d]} AS d{i}" for i, d in enumerate(dimensions))
    cols = ", ".join(f"d{i}" for i in range(len(dimensions)))
    order = ", ".join(f"d{i} NULLS LAST" for i in range(len(dimensions)))
    return f"""
SELECT {cols}, GROUPING({cols}) <> 0 AS is_total,
       {_BY_CLASS}
FROM (SELECT {inner}, gp.id AS pid, {_CLASSES} {_COVERING_FROM.format(system_time=system_time)}) a
GROUP BY GROUPING SETS (({cols}), ())
ORDER BY is_total, {order}
"""


def coverage_cube_sql(dimensions: list[str], sets: list[tuple[int, ...]], system_time: str) -> str:
    """Persons by class and receiving enrolments per cell of each grouping set (indexes
    into dimensions).

    `mask` is GROUPING() over every dimension: bit (n - 1 - i) is set where dimension i is
    summed over, so a row's set is the dimensions whose bit is clear.
    """
    inner = ", ".join(f"{DIMENSION_SQL[d]} AS d{i}" for i, d in enumerate(dimensions))
    cols = ", ".join(f"d{i}" for i in range(len(dimensions)))
    grouping = ", ".join("(" + ", ".join(f"d{i}" for i in s) + ")" for s in sets)
    return f"""
SELECT {cols}, GROUPING({cols}) AS mask,
       {_BY_CLASS}
FROM (SELECT {inner}, gp.id AS pid, {_CLASSES} {_COVERING_FROM.format(system_time=system_time)}) a
GROUP BY GROUPING SETS ({grouping})
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


#: A segment of the person summary that covers :as_of.
_SUMMARY_ACTIVE = (
    "start_date <= CAST(:as_of AS date) AND (end_date IS NULL OR CAST(:as_of AS date) <= end_date)"
)

#: Coverage by programme and region from the summary, in one statement with the dirty check
#: (a `stale` row means: fall back to the episodes). Each (person, programme, region) has at
#: most one segment covering the date, so counts are distinct persons; enrolments add up.
#: With :margins it adds the programme and region margins (distinct persons) that disclosure
#: control weighs.
SUMMARY_COVERAGE = f"""
WITH stale AS (SELECT EXISTS (SELECT 1 FROM overview_dirty) AS stale)
SELECT 'cell' AS kind, g.code, s.region, count(*) AS persons, sum(s.enrolments) AS enrolments
FROM overview_spell s JOIN programme g ON g.id = s.programme_id
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale)
GROUP BY g.code, s.region
UNION ALL
SELECT 'programme', g.code, NULL, count(*), 0
FROM overview_combination c CROSS JOIN LATERAL unnest(c.programme_ids) AS u(programme_id)
JOIN programme g ON g.id = u.programme_id
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale) AND (:by_programme_only OR :margins)
GROUP BY g.code
UNION ALL
SELECT 'region', NULL, s.region, count(DISTINCT s.person_id), sum(s.enrolments)
FROM overview_spell s
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale) AND :margins
GROUP BY s.region
UNION ALL
SELECT 'total', NULL, NULL, count(*), 0 FROM overview_combination
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale)
UNION ALL
SELECT 'stale', NULL, NULL, 0, 0 WHERE (SELECT stale FROM stale)
"""

#: Suspended and pending persons per cell and margin of coverage by programme and region,
#: from the summary's beside segments (same dirty check; `level` as in `OverviewBeside`,
#: only the :levels asked for).
SUMMARY_BESIDE = f"""
WITH stale AS (SELECT EXISTS (SELECT 1 FROM overview_dirty) AS stale)
SELECT false AS stale, b.level, g.code, b.region, b.status, count(*) AS persons
FROM overview_beside b LEFT JOIN programme g ON g.id = b.programme_id
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale) AND b.level = ANY(:levels)
GROUP BY b.level, g.code, b.region, b.status
UNION ALL
SELECT true, 0, NULL, NULL, NULL, 0 WHERE (SELECT stale FROM stale)
"""

#: Persons by the set of programmes they are active in, from the summary (same dirty check).
SUMMARY_COMBINATIONS = f"""
WITH stale AS (SELECT EXISTS (SELECT 1 FROM overview_dirty) AS stale)
SELECT false AS stale, programme_ids, count(*) AS persons FROM overview_combination
WHERE {_SUMMARY_ACTIVE} AND NOT (SELECT stale FROM stale)
GROUP BY programme_ids
UNION ALL
SELECT true, NULL, 0 WHERE (SELECT stale FROM stale)
"""


#: The receiving episodes with their resolved person, as `a` (used by person-level answers).
ACTIVE_EPISODES = f"""
SELECT gp.id AS pid, g.code AS programme, r.source_id, e.benefit_code, e.start_date,
       e.end_date, e.region
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = e.programme_id
JOIN person p ON p.id = e.person_id
JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
WHERE e.start_date <= CAST(:as_of AS date)
  AND (e.end_date IS NULL OR CAST(:as_of AS date) <= e.end_date)
  AND {receiving_sql("e")}
  AND {{system_time}}
"""

_GRANTS = """jsonb_agg(jsonb_build_object(
    'programme', a.programme, 'source_id', a.source_id, 'benefit_code', a.benefit_code,
    'start_date', a.start_date, 'end_date', a.end_date, 'region', a.region)
    ORDER BY a.programme, a.source_id)"""


def persons_in_programmes_sql(system_time: str, scope: str) -> str:
    """Persons active in at least :min_programmes programmes, in scope, paged by person id."""
    return f"""
SELECT a.pid, array_agg(DISTINCT a.programme ORDER BY a.programme) AS programmes,
       {_GRANTS} AS grants
FROM ({ACTIVE_EPISODES.format(system_time=system_time)}) a
WHERE a.pid > CAST(:after AS uuid) AND {scope}
GROUP BY a.pid
HAVING count(DISTINCT a.programme) >= :min_programmes
ORDER BY a.pid
LIMIT :limit
"""


#: Receiving persons per programme per period, suspended and pending persons beside them
#: (each person once per period and programme, in the first class they have in it): periods
#: cut [from, to] into calendar months, ISO weeks or quarters (the first and last clipped).
TIMESERIES = f"""
WITH periods AS (
    SELECT greatest(p, CAST(:from AS date)) AS period_start,
           least(CAST(p + CAST(:step AS interval) - interval '1 day' AS date),
                 CAST(:to AS date)) AS period_end
    FROM generate_series(date_trunc(:unit, CAST(:from AS date)),
                         CAST(:to AS date), CAST(:step AS interval)) AS p
), episodes AS (
    SELECT gp.id AS pid, e.programme_id, e.start_date, e.end_date, {_CLASSES}
    FROM enrolment e
    JOIN source_record r ON r.id = e.source_record_id
    JOIN person p ON p.id = e.person_id
    JOIN person gp ON gp.id = COALESCE(p.merged_into, p.id)
    WHERE {{system_time}}
      AND ({receiving_sql("e")} OR e.status IN ({BESIDE_SQL}))
      AND e.start_date <= CAST(:to AS date)
      AND (e.end_date IS NULL OR e.end_date >= CAST(:from AS date))
      AND (CAST(:programme AS text) IS NULL
           OR e.programme_id = (SELECT id FROM programme WHERE code = :programme))
)
SELECT CAST(d.period_start AS date) AS period_start, d.period_end, g.code AS programme,
       count(DISTINCT x.pid) FILTER (WHERE x.rcv) AS persons,
       count(DISTINCT x.pid) FILTER (WHERE x.rcv OR x.sus)
           - count(DISTINCT x.pid) FILTER (WHERE x.rcv) AS suspended,
       count(DISTINCT x.pid) - count(DISTINCT x.pid) FILTER (WHERE x.rcv OR x.sus) AS pending
FROM periods d
CROSS JOIN programme g
LEFT JOIN episodes x ON x.programme_id = g.id AND {{active}}
WHERE CAST(:programme AS text) IS NULL OR g.code = :programme
GROUP BY d.period_start, d.period_end, g.code
ORDER BY d.period_start, g.code
"""

#: "Active in a period": at any time in it (default), or on its last day.
PERIOD_ACTIVE = {
    "during": "x.start_date <= d.period_end"
    " AND (x.end_date IS NULL OR x.end_date >= d.period_start)",
    "end": "x.start_date <= d.period_end AND (x.end_date IS NULL OR x.end_date >= d.period_end)",
}
