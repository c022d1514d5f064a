"""CSV forms of the overview answers: one table per answer, a `section` column where needed."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from registry.core.csvfile import csv_writer
from registry.overview.schemas import Answer, to_json

Rows = list[dict[str, Any]]


def write_csv(rows: Rows) -> str:
    """Rows as CSV with the union of their keys as header, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row.get(c) for c in columns)
    return out.getvalue()


def _coverage(a: dict[str, Any]) -> Rows:
    rows = [{"section": "row", **r} for r in a["rows"]]
    total = dict.fromkeys(a["by"], "TOTAL") | a["total"]
    return [*rows, {"section": "total", **total}]


def _overlaps(a: dict[str, Any]) -> Rows:
    rows: Rows = [
        {"section": "matrix", "programme": x, "other": y, "persons": v}
        for x, row in a["matrix"].items()
        for y, v in row.items()
    ]
    rows += [
        {"section": "by_count", "programmes": n, "persons": v} for n, v in a["by_count"].items()
    ]
    return rows


def _persons(a: dict[str, Any]) -> Rows:
    return [
        {"person_id": p["person_id"], "programmes": " ".join(p["programmes"]), **g}
        for p in a["persons"]
        for g in p["enrolments"]
    ]


def _timeseries(a: dict[str, Any]) -> Rows:
    return list(a["rows"])


def _duplicates(a: dict[str, Any]) -> Rows:
    rows: Rows = []
    for kind in ("double_enrolments", "exclusive"):
        part = a[kind]
        for c in part["counts"]:
            flat = {**c}
            if "programmes" in flat:
                flat["programmes"] = " ".join(flat["programmes"])
            rows.append({"section": f"{kind}.counts", **flat})
        for p in part["persons"] or []:
            for g in p["enrolments"] or []:
                rows.append({"section": f"{kind}.persons", "person_id": p["person_id"], **g})
    return rows


def _quality(a: dict[str, Any]) -> Rows:
    rows: Rows = [
        {"section": "recipients", "quarter": q["quarter"], "benefit_code": code, "persons": n}
        for q in a["quarters"]
        for code, n in q["recipients"].items()
    ]
    for category, entry in a["errors"].items():
        rows.append({"section": "error_count", "category": category, "count": entry["count"]})
        rows += [{"section": "error", "category": category, **item} for item in entry["items"]]
    breaks = a["data_breaks"]
    rows += [{"section": "start_date_spike", **s} for s in breaks["start_date_spikes"]]
    rows += [{"section": "active_count_jump", **j} for j in breaks["active_count_jumps"]]
    rows += [{"section": "batch_active_count", **c} for c in breaks["batch_active_counts"]]
    rows += [
        {"section": "finding", **f, "source_ids": " ".join(f["source_ids"] or [])}
        for f in a.get("findings", [])
    ]
    return rows


def _reconciliation(a: dict[str, Any]) -> Rows:
    rows: Rows = [{"section": "summary", **a["summary"]}]
    rows += [{"section": "by_benefit_code", **c} for c in a["by_benefit_code"]]
    for section in ("left_only", "right_only", "differing"):
        for p in a.get(section) or []:
            for side in ("left", "right"):
                for g in p[side]:
                    rows.append(
                        {
                            "section": section,
                            "person_id": p["person_id"],
                            "side": side,
                            "differences": " ".join(p.get("differences", [])),
                            **g,
                        }
                    )
    rows += [{"section": "unresolved", **g} for g in a.get("unresolved") or []]
    return rows


TABLES: dict[str, Callable[[dict[str, Any]], Rows]] = {
    "coverage": _coverage,
    "overlaps": _overlaps,
    "persons": _persons,
    "timeseries": _timeseries,
    "duplicates": _duplicates,
    "quality": _quality,
    "reconciliation": _reconciliation,
}


def to_csv(kind: str, answer: Answer) -> str:
    """The CSV form of one overview answer (a table over its JSON form)."""
    return write_csv(TABLES[kind](to_json(answer)))
