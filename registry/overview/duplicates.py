"""Double enrolments in one programme, and persons in programme pairs marked exclusive."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.overview.access import OVERVIEW_READERS, scope_sql, suppressing
from registry.overview.disclosure import DEFAULT_K, suppress_cells
from registry.overview.queries import ACTIVE_EPISODES, system_time
from registry.overview.schemas import (
    DoubleEnrolmentCount,
    DoubleEnrolments,
    DuplicatePerson,
    Duplicates,
    ExclusiveFindings,
    ExclusivePairCount,
    enrolment,
)
from registry.programmes.service import get_programme

#: One pass over the active episodes, grouped, never joined to itself: only a person with two
#: or more active episodes can be a finding (a window count keeps the rest out of the groups);
#: `held` is one row per (person, programme); exclusive pairs are matched against each person's
#: programme array (pairs x persons in several programmes, both small); the enrolments shown are
#: aggregated in the same pass ({grants}, NULL when nothing is listed); the caller's regions are
#: checked once for the set of persons found (a semi-join), not per finding. An earlier form
#: joined the memberships to themselves per pair and re-read every episode (and, for a
#: regional caller, every person) per finding: 16 s on the demo registry with its programmes
#: marked exclusive.
_FINDINGS = """
WITH held AS (
    SELECT w.pid, w.programme,
           count(DISTINCT w.source_id) AS sources,
           count(DISTINCT w.benefit_code) AS codes,
           {grants} AS grants
    FROM (SELECT a.*, count(*) OVER (PARTITION BY a.pid) AS episodes FROM ({active}) a) w
    WHERE w.episodes >= 2
    GROUP BY w.pid, w.programme
), several AS (
    SELECT pid, array_agg(programme) AS programmes, jsonb_object_agg(programme, grants) AS grants
    FROM held GROUP BY pid HAVING count(*) >= 2
), pairs AS (
    SELECT least(x.code, y.code) AS a, greatest(x.code, y.code) AS b
    FROM programme_exclusion e
    JOIN programme x ON x.id = e.programme_id JOIN programme y ON y.id = e.other_id
), found AS (
    SELECT 'double' AS kind, h.programme AS a, NULL AS b, h.pid,
           h.codes < h.sources AS same_code, h.grants
    FROM held h
    WHERE h.sources >= 2 AND (CAST(:programme AS text) IS NULL OR h.programme = :programme)
    UNION ALL
    SELECT 'exclusive', p.a, p.b, s.pid, false, (s.grants -> p.a) || (s.grants -> p.b)
    FROM pairs p JOIN several s ON p.a = ANY(s.programmes) AND p.b = ANY(s.programmes)
    WHERE CAST(:programme AS text) IS NULL OR :programme IN (p.a, p.b)
), listed AS MATERIALIZED (
    SELECT DISTINCT f.pid FROM found f WHERE {listed}
), shown AS (SELECT f.*, f.pid IN (SELECT pid FROM listed) AS listed FROM found f)
SELECT kind, a, b, pid, same_code, listed, CASE WHEN listed THEN grants END AS grants
FROM shown
ORDER BY kind, a, b, pid
"""

#: The enrolments of one (person, programme), in the order they are shown.
_GRANTS = """jsonb_agg(jsonb_build_object(
    'programme', w.programme, 'source_id', w.source_id, 'benefit_code', w.benefit_code,
    'start_date', w.start_date, 'end_date', w.end_date, 'region', w.region)
    ORDER BY w.source_id)"""


def duplicates(
    session: Session,
    principal: Principal,
    as_of: date,
    programme: str | None = None,
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> Duplicates:
    """Persons enrolled twice in one programme, and persons in both of an exclusive pair."""
    principal.require(*OVERVIEW_READERS)
    if programme is not None:
        get_programme(session, programme)
    suppressed_answer = suppressing(principal, suppress)
    may_list = principal.has_any("oversight") and not suppressed_answer
    condition, params = system_time(recorded_at)
    scope, scope_params = scope_sql(principal, "f.pid") if may_list else ("false", {})
    sql = _FINDINGS.format(
        active=ACTIVE_EPISODES.format(system_time=condition),
        listed=scope,
        grants=_GRANTS if may_list else "CAST(NULL AS jsonb)",
    )
    found = session.execute(
        text(sql), {"as_of": as_of, "programme": programme, **params, **scope_params}
    ).all()
    doubles: dict[str, dict[str, Any]] = {}
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    listed: dict[str, list[DuplicatePerson]] = {"double": [], "exclusive": []}
    for r in found:
        if r.kind == "double":
            cell = doubles.setdefault(r.a, {"programme": r.a, "persons": 0, "same_benefit_code": 0})
            cell["persons"] += 1
            cell["same_benefit_code"] += int(r.same_code)
            programmes = [r.a]
        else:
            pair = pairs.setdefault((r.a, r.b), {"programmes": [r.a, r.b], "persons": 0})
            pair["persons"] += 1
            programmes = [r.a, r.b]
        if r.listed:
            grants = None if r.grants is None else [enrolment(g) for g in r.grants]
            listed[r.kind].append(DuplicatePerson(str(r.pid), programmes, grants))
    double_counts = sorted(doubles.values(), key=lambda c: c["programme"])
    pair_counts = sorted(pairs.values(), key=lambda c: c["programmes"])
    suppressed = False
    if suppressed_answer:
        suppressed = _suppress_each(double_counts, ("persons", "same_benefit_code"), k)
        suppressed = _suppress_each(pair_counts, ("persons",), k) or suppressed
    return Duplicates(
        as_of=as_of.isoformat(),
        programme=programme,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        double_enrolments=DoubleEnrolments(
            counts=[DoubleEnrolmentCount(**c) for c in double_counts],
            persons=listed["double"] if may_list else None,
        ),
        exclusive=ExclusiveFindings(
            counts=[ExclusivePairCount(**c) for c in pair_counts],
            persons=listed["exclusive"] if may_list else None,
        ),
        suppressed=suppressed,
    )


def _suppress_each(cells: list[dict[str, Any]], measures: tuple[str, ...], k: int) -> bool:
    """Suppress small counts; a row's sub-count (same code) goes with its count."""
    hidden_any = False
    for measure in measures:
        values = {i: int(c[measure]) for i, c in enumerate(cells) if c[measure] is not None}
        hidden = suppress_cells(values, [], k)
        for i in hidden:
            for m in measures:
                cells[i][m] = None
        hidden_any = hidden_any or bool(hidden)
    return hidden_any
