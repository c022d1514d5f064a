"""The person summary behind fast coverage and overlaps: refreshed from dirty marks, exact.

Per resolved person, the boundaries of their current receiving episodes (`receiving.py`;
suspended and pending ones are not in the summary) cut time into elementary segments; in
each segment the set of receiving (programme, region) keys is constant. Persons with a
suspended or pending episode get, in `overview_beside`, their segments cut from all their
episodes and the class they have where they are not receiving (each cell and margin of
coverage by programme and region). A person
is counted once per key (`overview_spell`) and once per programme combination
(`overview_combination`) in the segment covering a date, so distinct persons become plain
counts. Each person's money events (`overview_money_person`: receiving episodes' starts and
ends with an amount, per cell and month) are replaced at refresh and the difference added to
`overview_money_cell`, which spending by programme, region and benefit reads (`moneycells`);
the spells they open and close per month likewise (`overview_flow_person`,
`overview_flow_cell`, read by inflow/outflow: `flowcells`).
Queries read the summary only in the same statement that finds no dirty mark.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.core.db import execute_script
from registry.core.locks import LockSpace, try_hold
from registry.overview.episodes import CLOSES, OPEN_END, OPENS, SPELL_ORDER, SPELL_WINDOW
from registry.overview.receiving import BESIDE_STATUSES, receiving_sql

#: Advisory-lock key: one refresh at a time (others skip; the marks wait for the next one).

#: The statuses counted beside receiving, as an SQL list.
BESIDE_SQL = ", ".join(f"'{s}'" for s in BESIDE_STATUSES)

_CLAIM = """
CREATE TEMP TABLE IF NOT EXISTS overview_claim (id bigint, person_id uuid)
    ON COMMIT DELETE ROWS;
DELETE FROM overview_claim;
INSERT INTO overview_claim
SELECT id, person_id FROM overview_dirty ORDER BY id LIMIT :limit;
-- without statistics the planner guesses ~1,500 claimed rows and hashes all of person for
-- them (a sequential scan: 22 ms a refresh at 100k persons, against one probe each)
ANALYZE overview_claim;
CREATE TEMP TABLE IF NOT EXISTS overview_resolved (pid uuid PRIMARY KEY)
    ON COMMIT DELETE ROWS;
DELETE FROM overview_resolved;
INSERT INTO overview_resolved
SELECT DISTINCT x.pid
FROM overview_claim c LEFT JOIN person p ON p.id = c.person_id
CROSS JOIN LATERAL (VALUES (c.person_id), (COALESCE(p.merged_into, c.person_id))) x(pid);
ANALYZE overview_resolved;
"""

_RECOMPUTE = """
DELETE FROM overview_spell WHERE person_id IN (SELECT pid FROM overview_resolved);
DELETE FROM overview_combination WHERE person_id IN (SELECT pid FROM overview_resolved);
CREATE TEMP TABLE IF NOT EXISTS overview_cover (
    pid uuid, s date, t date, programme_id integer, region text, n integer
) ON COMMIT DELETE ROWS;
DELETE FROM overview_cover;
WITH owners AS (
    SELECT p.id, COALESCE(p.merged_into, p.id) AS pid FROM person p
    WHERE p.id IN (SELECT pid FROM overview_resolved)
    UNION
    SELECT p.id, p.merged_into FROM person p
    WHERE p.merged_into IN (SELECT pid FROM overview_resolved)
), episodes AS (
    SELECT o.pid, e.programme_id, e.region, e.start_date AS s, e.end_date AS t
    FROM owners o JOIN enrolment e ON e.person_id = o.id AND e.superseded_at IS NULL
    WHERE o.pid IN (SELECT pid FROM overview_resolved) AND RECEIVING
), bounds AS (
    SELECT pid, s AS b FROM episodes
    UNION
    SELECT pid, t + 1 FROM episodes WHERE t IS NOT NULL
), segments AS (
    SELECT pid, b AS s, lead(b) OVER (PARTITION BY pid ORDER BY b) - 1 AS t FROM bounds
)
INSERT INTO overview_cover (pid, s, t, programme_id, region, n)
SELECT g.pid, g.s, g.t, e.programme_id, e.region, count(*)
FROM segments g JOIN episodes e
  ON e.pid = g.pid AND e.s <= g.s AND (e.t IS NULL OR g.s <= e.t)
GROUP BY g.pid, g.s, g.t, e.programme_id, e.region;
INSERT INTO overview_spell (person_id, programme_id, region, start_date, end_date, enrolments)
SELECT pid, programme_id, region, s, t, n FROM overview_cover;
INSERT INTO overview_combination (person_id, start_date, end_date, programme_ids)
SELECT pid, s, t, array_agg(DISTINCT programme_id ORDER BY programme_id)
FROM overview_cover GROUP BY pid, s, t;
DELETE FROM overview_beside WHERE person_id IN (SELECT pid FROM overview_resolved);
WITH owners AS (
    SELECT p.id, COALESCE(p.merged_into, p.id) AS pid FROM person p
    WHERE p.id IN (SELECT pid FROM overview_resolved)
    UNION
    SELECT p.id, p.merged_into FROM person p
    WHERE p.merged_into IN (SELECT pid FROM overview_resolved)
), beside AS (
    SELECT DISTINCT o.pid FROM owners o
    JOIN enrolment e ON e.person_id = o.id AND e.superseded_at IS NULL
    WHERE o.pid IN (SELECT pid FROM overview_resolved) AND e.status IN (BESIDE)
), episodes AS (
    SELECT o.pid, e.programme_id, e.region, e.start_date AS s, e.end_date AS t,
           CASE WHEN RECEIVING THEN 1 WHEN e.status = 'suspended' THEN 2 ELSE 3 END AS rank
    FROM owners o JOIN enrolment e ON e.person_id = o.id AND e.superseded_at IS NULL
    WHERE o.pid IN (SELECT pid FROM beside) AND (RECEIVING OR e.status IN (BESIDE))
), bounds AS (
    SELECT pid, s AS b FROM episodes
    UNION
    SELECT pid, t + 1 FROM episodes WHERE t IS NOT NULL
), segments AS (
    SELECT pid, b AS s, lead(b) OVER (PARTITION BY pid ORDER BY b) - 1 AS t FROM bounds
)
INSERT INTO overview_beside (person_id, level, programme_id, region, start_date, end_date,
                             status)
SELECT g.pid, GROUPING(e.programme_id, e.region), e.programme_id, e.region, g.s, g.t,
       CASE min(e.rank) WHEN 2 THEN 'suspended' ELSE 'pending' END
FROM segments g JOIN episodes e
  ON e.pid = g.pid AND e.s <= g.s AND (e.t IS NULL OR g.s <= e.t)
GROUP BY GROUPING SETS ((g.pid, g.s, g.t, e.programme_id, e.region),
                        (g.pid, g.s, g.t, e.programme_id), (g.pid, g.s, g.t, e.region),
                        (g.pid, g.s, g.t))
HAVING min(e.rank) > 1;
-- money and flow events: each person's rows replaced, the difference added to the cells
WITH owners AS (
    SELECT p.id, COALESCE(p.merged_into, p.id) AS pid FROM person p
    WHERE p.id IN (SELECT pid FROM overview_resolved)
    UNION
    SELECT p.id, p.merged_into FROM person p
    WHERE p.merged_into IN (SELECT pid FROM overview_resolved)
), receiving AS (
    SELECT o.pid, e.programme_id, e.region, e.benefit_code, e.amount_period, e.amount,
           e.start_date AS s, e.end_date
    FROM owners o JOIN enrolment e ON e.person_id = o.id AND e.superseded_at IS NULL
    WHERE o.pid IN (SELECT pid FROM overview_resolved) AND RECEIVING
), episodes AS (
    SELECT pid, programme_id, region, benefit_code, COALESCE(amount_period, 'none') AS per,
           amount AS a, s, end_date + 1 AS u
    FROM receiving WHERE amount IS NOT NULL
), events AS (
    SELECT pid, programme_id, region, benefit_code, per, 0 AS kind, s AS d, a FROM episodes
    UNION ALL
    SELECT pid, programme_id, region, benefit_code, per, 1, u, a FROM episodes
    WHERE u IS NOT NULL AND per <> 'payment'
), fresh AS (
    INSERT INTO overview_money_person (person_id, programme_id, region, benefit_code, per,
                                       kind, month, first_day, episodes, amount, day_amount,
                                       doy_amount)
    SELECT pid, programme_id, region, benefit_code, per, kind,
           CAST(date_trunc('month', CAST(d AS timestamp)) AS date), extract(day FROM d) = 1,
           count(*), sum(a), sum(a * (extract(day FROM d) - 1)),
           sum(a * (extract(doy FROM d) - 1))
    FROM events
    GROUP BY pid, programme_id, region, benefit_code, per, kind, 7, 8
    RETURNING programme_id, region, benefit_code, per, kind, month, first_day, episodes,
              amount, day_amount, doy_amount
), gone AS (
    DELETE FROM overview_money_person WHERE person_id IN (SELECT pid FROM overview_resolved)
    RETURNING programme_id, region, benefit_code, per, kind, month, first_day, -episodes,
              -amount, -day_amount, -doy_amount
), money AS (
    INSERT INTO overview_money_cell (programme_id, region, benefit_code, per, kind, month,
                                     first_day, episodes, amount, day_amount, doy_amount)
    SELECT programme_id, region, benefit_code, per, kind, month, first_day, sum(episodes),
           sum(amount), sum(day_amount), sum(doy_amount)
    FROM (SELECT * FROM fresh UNION ALL SELECT * FROM gone) d
    GROUP BY programme_id, region, benefit_code, per, kind, month, first_day
    ON CONFLICT (programme_id, region, benefit_code, per, kind, month, first_day) DO UPDATE
    SET episodes = overview_money_cell.episodes + excluded.episodes,
        amount = overview_money_cell.amount + excluded.amount,
        day_amount = overview_money_cell.day_amount + excluded.day_amount,
        doy_amount = overview_money_cell.doy_amount + excluded.doy_amount
), x AS (
    SELECT pid, programme_id AS prog, region, benefit_code, s,
           COALESCE(end_date, OPEN_END) AS t
    FROM receiving
), w AS (
    SELECT x.*, SPELL_WINDOW FROM x SPELL_ORDER
), flows AS (
    SELECT pid, prog, region, benefit_code, 0 AS flow, s AS d FROM w WHERE OPENS
    UNION ALL
    SELECT pid, prog, region, benefit_code, 1, t FROM w WHERE CLOSES AND t < OPEN_END
), fresh_flows AS (
    INSERT INTO overview_flow_person (person_id, programme_id, region, benefit_code, flow,
                                      month, spells)
    SELECT pid, prog, region, benefit_code, flow,
           CAST(date_trunc('month', CAST(d AS timestamp)) AS date), count(*)
    FROM flows
    GROUP BY pid, prog, region, benefit_code, flow, 6
    RETURNING programme_id, region, benefit_code, flow, month, spells
), gone_flows AS (
    DELETE FROM overview_flow_person WHERE person_id IN (SELECT pid FROM overview_resolved)
    RETURNING programme_id, region, benefit_code, flow, month, -spells
)
INSERT INTO overview_flow_cell (programme_id, region, benefit_code, flow, month, spells)
SELECT programme_id, region, benefit_code, flow, month, sum(spells)
FROM (SELECT * FROM fresh_flows UNION ALL SELECT * FROM gone_flows) d
GROUP BY programme_id, region, benefit_code, flow, month
ON CONFLICT (programme_id, region, benefit_code, flow, month) DO UPDATE
SET spells = overview_flow_cell.spells + excluded.spells;
DELETE FROM overview_dirty WHERE id IN (SELECT id FROM overview_claim);
"""
for _name, _sql in {
    "SPELL_WINDOW": SPELL_WINDOW,
    "SPELL_ORDER": SPELL_ORDER,
    "OPEN_END": OPEN_END,
    "OPENS": OPENS,
    "CLOSES": CLOSES,
    "RECEIVING": receiving_sql("e"),
    "BESIDE": BESIDE_SQL,
}.items():
    _RECOMPUTE = _RECOMPUTE.replace(_name, _sql)


#: One pass of the refresh: claim up to :limit dirty marks, recompute their persons, then
#: count what was claimed (the last statement's row). An ingest batch runs it in its own
#: round trips (registry/ingest/service.py).
REFRESH_PASS: list[str] = [
    *(s.strip() for s in (_CLAIM + _RECOMPUTE).split(";") if s.strip()),
    "SELECT count(*) FROM overview_claim",
]


def refresh_summary(session: Session, chunk: int | None = 200_000) -> int:
    """Recompute the summary of every person marked dirty, `chunk` marks at a time.

    Call it in the transaction that changed the episodes (the end of an ingest batch) or
    from a job; a refresh already running elsewhere makes this one return 0 at once.
    """
    if not try_hold(session, LockSpace.SUMMARY_REFRESH):
        return 0
    drained = 0
    while True:
        claimed = int(execute_script(session, REFRESH_PASS, {"limit": chunk}).scalar_one())
        drained += claimed
        if not claimed or chunk is None or claimed < chunk:
            return drained


def is_current(session: Session) -> bool:
    """True when no person is marked dirty (the summary matches the current rows)."""
    return not session.execute(text("SELECT EXISTS (SELECT 1 FROM overview_dirty)")).scalar()
