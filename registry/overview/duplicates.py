"""Double enrolments in one programme, and persons in programme pairs marked exclusive."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.overview.queries import ACTIVE_EPISODES
from registry.overview.service import (
    DEFAULT_K,
    OVERVIEW_READERS,
    _system_time,
    scope_sql,
    suppress_cells,
    suppressing,
)
from registry.programmes.service import get_programme

_FINDINGS = """
WITH a AS ({active}),
doubles AS (
    SELECT 'double' AS kind, a.programme AS a, NULL AS b, a.pid,
           count(DISTINCT a.benefit_code) < count(DISTINCT a.source_id) AS same_code
    FROM a WHERE CAST(:programme AS text) IS NULL OR a.programme = :programme
    GROUP BY a.programme, a.pid HAVING count(DISTINCT a.source_id) >= 2
), pairs AS (
    SELECT least(x.code, y.code) AS a, greatest(x.code, y.code) AS b
    FROM programme_exclusion e
    JOIN programme x ON x.id = e.programme_id JOIN programme y ON y.id = e.other_id
), memberships AS (SELECT DISTINCT pid, programme FROM a), exclusive AS (
    SELECT 'exclusive' AS kind, p.a, p.b, m1.pid, false AS same_code
    FROM pairs p
    JOIN memberships m1 ON m1.programme = p.a
    JOIN memberships m2 ON m2.programme = p.b AND m2.pid = m1.pid
    WHERE CAST(:programme AS text) IS NULL OR :programme IN (p.a, p.b)
), found AS (SELECT * FROM doubles UNION ALL SELECT * FROM exclusive)
SELECT f.kind, f.a, f.b, f.pid, f.same_code, {listed} AS listed,
       CASE WHEN {listed} THEN (
           SELECT jsonb_agg(jsonb_build_object(
               'programme', g.programme, 'source_id', g.source_id,
               'benefit_code', g.benefit_code, 'start_date', g.start_date,
               'end_date', g.end_date, 'region', g.region)
               ORDER BY g.programme, g.source_id)
           FROM a g WHERE g.pid = f.pid AND g.programme IN (f.a, f.b)) END AS grants
FROM found f
ORDER BY f.kind, f.a, f.b, f.pid
"""


def duplicates(
    session: Session,
    principal: Principal,
    as_of: date,
    programme: str | None = None,
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Persons enrolled twice in one programme, and persons in both of an exclusive pair."""
    principal.require(*OVERVIEW_READERS)
    if programme is not None:
        get_programme(session, programme)
    suppressed_answer = suppressing(principal, suppress)
    may_list = principal.has_any("oversight") and not suppressed_answer
    condition, params = _system_time(recorded_at)
    scope, scope_params = scope_sql(principal, "f.pid") if may_list else ("false", {})
    sql = _FINDINGS.format(active=ACTIVE_EPISODES.format(system_time=condition), listed=scope)
    found = session.execute(
        text(sql), {"as_of": as_of, "programme": programme, **params, **scope_params}
    ).all()
    doubles: dict[str, dict[str, Any]] = {}
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    listed: dict[str, list[dict[str, Any]]] = {"double": [], "exclusive": []}
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
            listed[r.kind].append(
                {"person_id": str(r.pid), "programmes": programmes, "enrolments": r.grants}
            )
    double_counts = sorted(doubles.values(), key=lambda c: c["programme"])
    pair_counts = sorted(pairs.values(), key=lambda c: c["programmes"])
    suppressed = False
    if suppressed_answer:
        suppressed = _suppress_each(double_counts, ("persons", "same_benefit_code"), k)
        suppressed = _suppress_each(pair_counts, ("persons",), k) or suppressed
    return {
        "as_of": as_of.isoformat(),
        "programme": programme,
        "recorded_at": recorded_at.isoformat() if recorded_at else None,
        "double_enrolments": {
            "counts": double_counts,
            "persons": listed["double"] if may_list else None,
        },
        "exclusive": {
            "counts": pair_counts,
            "persons": listed["exclusive"] if may_list else None,
        },
        "suppressed": suppressed,
    }


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
