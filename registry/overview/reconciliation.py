"""Reconciliation ("ottetalskontrol"): two programmes, or a programme and a reference extract."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.core.errors import InvalidInput, PayloadTooLarge
from registry.identity.national_id import digest
from registry.overview.access import OVERVIEW_READERS, scope_sql, suppressing
from registry.overview.disclosure import DEFAULT_K, suppress_cells
from registry.overview.queries import ACTIVE_EPISODES, system_time
from registry.overview.schemas import (
    BenefitCodeCounts,
    DifferingPerson,
    GrantView,
    OneSidedPerson,
    Reconciliation,
    ReconciliationSummary,
)
from registry.programmes.service import get_programme

#: Rows per uploaded extract: a municipality's whole programme, not a population lookup.
MAX_REFERENCE_ROWS = 50_000
REFERENCE_COLUMNS = ("source_id", "national_id", "benefit_code", "start_date", "end_date")

_PROGRAMME_GRANTS = f"""
SELECT a.pid, a.benefit_code, a.start_date, a.end_date, a.source_id
FROM ({ACTIVE_EPISODES}) a
WHERE a.programme = :programme
  AND (CAST(:benefit_code AS text) IS NULL OR a.benefit_code = :benefit_code)
"""

#: Reference rows resolved to persons; `readable` is false for a person outside the caller's
#: regions (such a row is compared with nothing and shown like an unknown one).
_RESOLVE_REFERENCE = """
SELECT y.row, y.pid, y.pid IS NOT NULL AND {readable} AS readable
FROM (
    SELECT x.row, COALESCE(pp.merged_into, pp.id) AS pid
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(row integer, source_id text, digest text)
    LEFT JOIN source_record r ON r.programme_id = :programme_id AND r.source_id = x.source_id
    LEFT JOIN person_identifier i ON i.scheme = :scheme AND i.digest = decode(x.digest, 'hex')
    LEFT JOIN person pp ON pp.id = COALESCE(r.person_id, i.person_id)
) y
"""


@dataclass(frozen=True)
class Grant:
    """One benefit grant on one side: its person, code and dates, and where it came from."""

    pid: str | None
    benefit_code: str | None
    start_date: date | None
    end_date: date | None
    origin: str

    def view(self) -> GrantView:
        """The grant as answered: dates as ISO strings, with its origin."""
        return GrantView(
            benefit_code=self.benefit_code,
            start_date=self.start_date.isoformat() if self.start_date else None,
            end_date=self.end_date.isoformat() if self.end_date else None,
            origin=self.origin,
        )


@dataclass(frozen=True)
class ReferenceRow:
    """A row of an uploaded reference extract (row numbers count the header as row 1)."""

    row: int
    source_id: str | None
    national_id: str | None
    benefit_code: str | None
    start_date: date | None
    end_date: date | None


def parse_reference(content: bytes) -> list[ReferenceRow]:
    """Read a reference CSV (source_id and/or national_id, benefit_code, dates); 422 if bad."""
    try:
        textual = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the reference file must be UTF-8 CSV") from exc
    sample = textual[:4096]
    # Danish spreadsheets write semicolons
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(textual), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not {"source_id", "national_id"} & set(header):
        raise InvalidInput("the reference CSV needs a source_id or a national_id column")
    rows: list[ReferenceRow] = []
    problems: list[dict[str, Any]] = []
    for n, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_REFERENCE_ROWS:
            rule = f"at most {MAX_REFERENCE_ROWS} rows per upload; split the extract"
            raise PayloadTooLarge(
                f"the reference holds more than {MAX_REFERENCE_ROWS} rows ({rule})",
                errors=[{"field": "reference", "code": "too_many_rows", "message": rule}],
            )
        values = {
            (k or "").strip().lower(): (v or "").strip() or None
            for k, v in raw.items()
            if isinstance(v, str | type(None))
        }
        dates: dict[str, date | None] = {}
        for field in ("start_date", "end_date"):
            given = values.get(field)
            try:
                dates[field] = date.fromisoformat(given) if given else None
            except ValueError:
                problems.append(
                    {
                        "field": f"row {n}.{field}",
                        "code": "invalid_date",
                        "message": "not YYYY-MM-DD",
                    }
                )
        if not values.get("source_id") and not values.get("national_id"):
            problems.append(
                {"field": f"row {n}", "code": "required", "message": "source_id or national_id"}
            )
        rows.append(
            ReferenceRow(
                n,
                values.get("source_id"),
                values.get("national_id"),
                values.get("benefit_code"),
                dates.get("start_date"),
                dates.get("end_date"),
            )
        )
    if problems:
        raise InvalidInput(
            f"the reference CSV has {len(problems)} invalid rows", errors=problems[:50]
        )
    return rows


def _programme_grants(
    session: Session,
    code: str,
    as_of: date,
    benefit_code: str | None,
    condition: str,
    params: dict[str, Any],
) -> list[Grant]:
    sql = _PROGRAMME_GRANTS.format(system_time=condition)
    found = session.execute(
        text(sql), {"as_of": as_of, "programme": code, "benefit_code": benefit_code, **params}
    )
    return [
        Grant(str(r.pid), r.benefit_code, r.start_date, r.end_date, f"{code}:{r.source_id}")
        for r in found
    ]


def _reference_grants(
    session: Session,
    principal: Principal,
    programme_id: int,
    rows: list[ReferenceRow],
    as_of: date,
    benefit_code: str | None,
    scheme: str,
    key: bytes | None,
) -> list[Grant]:
    """Reference rows active on the date (rows without dates count), resolved to persons.

    A row is resolved only to a person the caller may read; any other row keeps no person
    (it is counted as not compared, exactly like a row that matches nobody).
    """
    kept = [
        r
        for r in rows
        if (benefit_code is None or r.benefit_code == benefit_code)
        and (r.start_date is None or r.start_date <= as_of)
        and (r.end_date is None or as_of <= r.end_date)
    ]
    payload = [
        {
            "row": r.row,
            "source_id": r.source_id,
            "digest": digest(r.national_id, key).hex() if r.national_id and key else None,
        }
        for r in kept
    ]
    readable, scope_params = scope_sql(principal, "y.pid")
    resolved = {
        int(x.row): str(x.pid)
        for x in session.execute(
            text(_RESOLVE_REFERENCE.format(readable=readable)),
            {
                "rows": json.dumps(payload),
                "programme_id": programme_id,
                "scheme": scheme,
                **scope_params,
            },
        )
        if x.readable
    }
    return [
        Grant(resolved.get(r.row), r.benefit_code, r.start_date, r.end_date, f"row {r.row}")
        for r in kept
    ]


@dataclass(frozen=True)
class ReferenceReconciliation:
    """An answer against an uploaded extract, and what its audit event must name."""

    body: Reconciliation
    looked_up: list[str]
    not_compared: int


def reconcile_reference(
    session: Session,
    principal: Principal,
    left: str,
    reference: list[ReferenceRow],
    *,
    as_of: date,
    benefit_code: str | None = None,
    k: int = DEFAULT_K,
    national_id_scheme: str = "dk_cpr",
    national_id_key: bytes | None = None,
) -> ReferenceReconciliation:
    """A programme against an extract; rows reveal only persons the caller may read."""
    principal.require("oversight")
    programme = get_programme(session, left)
    right = _reference_grants(
        session,
        principal,
        programme.id,
        reference,
        as_of,
        benefit_code,
        national_id_scheme,
        national_id_key,
    )
    body = _reconcile(session, principal, left, right, "reference", as_of, benefit_code, k)
    looked_up = sorted({g.pid for g in right if g.pid is not None})
    return ReferenceReconciliation(body, looked_up, sum(1 for g in right if g.pid is None))


def reconcile(
    session: Session,
    principal: Principal,
    left: str,
    *,
    as_of: date,
    right: str | None = None,
    reference: list[ReferenceRow] | None = None,
    benefit_code: str | None = None,
    recorded_at: datetime | None = None,
    suppress: bool = False,
    k: int = DEFAULT_K,
    national_id_scheme: str = "dk_cpr",
    national_id_key: bytes | None = None,
) -> Reconciliation:
    """Persons in one side and not the other (both ways), per benefit code, and differing grants."""
    principal.require(*OVERVIEW_READERS)
    if reference is not None:
        return reconcile_reference(
            session,
            principal,
            left,
            reference,
            as_of=as_of,
            benefit_code=benefit_code,
            k=k,
            national_id_scheme=national_id_scheme,
            national_id_key=national_id_key,
        ).body
    get_programme(session, left)
    if right is None:
        raise InvalidInput("name a `right` programme or upload a reference extract")
    get_programme(session, right)
    condition, params = system_time(recorded_at)
    right_grants = _programme_grants(session, right, as_of, benefit_code, condition, params)
    return _reconcile(
        session, principal, left, right_grants, right, as_of, benefit_code, k, recorded_at, suppress
    )


def _reconcile(
    session: Session,
    principal: Principal,
    left: str,
    right_grants: list[Grant],
    right_name: str,
    as_of: date,
    benefit_code: str | None,
    k: int,
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> Reconciliation:
    """The comparison of the left programme with the right side's grants, as answered."""
    condition, params = system_time(recorded_at)
    left_grants = _programme_grants(session, left, as_of, benefit_code, condition, params)
    answer = _compare(left_grants, right_grants)
    suppressed_answer = suppressing(principal, suppress)
    may_list = principal.has_any("oversight") and not suppressed_answer
    lists = Lists(None, None, None, None)
    if may_list:
        lists = _lists(session, principal, left_grants, right_grants, answer)
    suppressed = _suppress(answer, k) if suppressed_answer else False
    return Reconciliation(
        as_of=as_of.isoformat(),
        left=left,
        right=right_name,
        benefit_code=benefit_code,
        recorded_at=recorded_at.isoformat() if recorded_at else None,
        summary=ReconciliationSummary(**answer.summary),
        by_benefit_code=[
            BenefitCodeCounts(benefit_code=code, **counts)
            for code, counts in answer.by_benefit_code
        ],
        left_only=lists.left_only,
        right_only=lists.right_only,
        differing=lists.differing,
        unresolved=lists.unresolved,
        suppressed=suppressed,
    )


@dataclass(frozen=True)
class Lists:
    """The persons behind the counts (None each when the caller may not list them)."""

    left_only: list[OneSidedPerson] | None
    right_only: list[OneSidedPerson] | None
    differing: list[DifferingPerson] | None
    unresolved: list[GrantView] | None


def _by_person(grants: list[Grant]) -> dict[str, list[Grant]]:
    found: dict[str, list[Grant]] = defaultdict(list)
    for g in grants:
        if g.pid is not None:
            found[g.pid].append(g)
    return found


def _differences(mine: list[Grant], theirs: list[Grant]) -> list[str]:
    """What differs between one person's grants on the two sides: code, start, end."""
    found = []
    codes_l, codes_r = {g.benefit_code for g in mine}, {g.benefit_code for g in theirs}
    if codes_l != codes_r:
        found.append("benefit_code")
    for field in ("start_date", "end_date"):
        for code in codes_l & codes_r:
            a = {getattr(g, field) for g in mine if g.benefit_code == code}
            b = {getattr(g, field) for g in theirs if g.benefit_code == code}
            if a != b:
                found.append(field)
                break
    return found


#: Counts by name (persons per side, both, one side only, ...); suppression sets some to None.
Cells = dict[str, int | None]


@dataclass(frozen=True)
class Comparison:
    """The two sides compared: counts (summary, per benefit code) and the persons behind them."""

    summary: Cells
    by_benefit_code: list[tuple[str | None, Cells]]
    differing: dict[str, list[str]]
    left: dict[str, list[Grant]]
    right: dict[str, list[Grant]]


def _compare(left: list[Grant], right: list[Grant]) -> Comparison:
    """Counts of the comparison: per side, both, one side only, differing; per benefit code."""
    lp, rp = _by_person(left), _by_person(right)
    both = lp.keys() & rp.keys()
    differing = {pid: d for pid in both if (d := _differences(lp[pid], rp[pid]))}
    codes = sorted({g.benefit_code or "" for g in left + right})
    per_code: list[tuple[str | None, Cells]] = []
    for code in codes:
        lc = {g.pid for g in left if (g.benefit_code or "") == code and g.pid}
        rc = {g.pid for g in right if (g.benefit_code or "") == code and g.pid}
        counts: Cells = {
            "left": len(lc),
            "right": len(rc),
            "both": len(lc & rc),
            "left_only": len(lc - rc),
            "right_only": len(rc - lc),
        }
        per_code.append((code or None, counts))
    unresolved = [g for g in right if g.pid is None]
    summary: Cells = {
        "left": len(lp),
        "right": len(rp),
        "both": len(both),
        "left_only": len(lp.keys() - rp.keys()),
        "right_only": len(rp.keys() - lp.keys()),
        "differing": len(differing),
        "unresolved": len(unresolved),
    }
    return Comparison(summary, per_code, differing, lp, rp)


def _lists(
    session: Session,
    principal: Principal,
    left: list[Grant],
    right: list[Grant],
    answer: Comparison,
) -> Lists:
    """The persons behind the counts, within the caller's regions."""
    lp, rp, differing = answer.left, answer.right, answer.differing
    pids = sorted(lp.keys() | rp.keys())
    visible = set(pids)
    if not principal.all_regions and pids:
        scope, scope_params = scope_sql(principal, "x.pid")
        visible = {
            str(r.pid)
            for r in session.execute(
                text(f"SELECT x.pid FROM unnest(CAST(:pids AS uuid[])) AS x(pid) WHERE {scope}"),
                {"pids": pids, **scope_params},
            )
        }

    def person(pid: str) -> OneSidedPerson:
        return OneSidedPerson(
            pid, [g.view() for g in lp.get(pid, [])], [g.view() for g in rp.get(pid, [])]
        )

    def differing_person(pid: str) -> DifferingPerson:
        one = person(pid)
        return DifferingPerson(one.person_id, one.left, one.right, differing[pid])

    return Lists(
        left_only=[person(p) for p in pids if p in visible and p not in rp],
        right_only=[person(p) for p in pids if p in visible and p not in lp],
        differing=[differing_person(p) for p in pids if p in visible and p in differing],
        unresolved=[g.view() for g in right if g.pid is None],
    )


def _suppress(answer: Comparison, k: int) -> bool:
    """Hide small counts; both + one side only add up to a side, so they hide together."""
    hidden_any = False
    for cells in [answer.summary, *(counts for _, counts in answer.by_benefit_code)]:
        values = {m: int(cells[m] or 0) for m in ("both", "left_only", "right_only")}
        hidden = suppress_cells(values, [["both", "left_only"], ["both", "right_only"]], k)
        for m in ("left", "right", "differing", "unresolved"):
            if m in cells and 0 < int(cells[m] or 0) < k:
                hidden.add(m)
        for m in hidden:
            cells[m] = None
        hidden_any = hidden_any or bool(hidden)
    return hidden_any
