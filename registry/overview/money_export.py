"""JSON and CSV forms of the money and movement answers (one table each, like the others)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from registry.overview.export import Rows, write_csv
from registry.overview.schemas import Durations, Flows, FullYear, MoneyAnswer, Spending

_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}

#: The dimensions a row may carry; only those asked for in `by` are sent.
_DIMENSIONS = (
    "programme",
    "benefit_code",
    "region",
    "municipality",
    "target_group",
    "age_band",
)


def money_json(answer: MoneyAnswer) -> dict[str, Any]:
    """The answer's JSON form (wire names); rows carry only the dimensions asked for."""
    kind = type(answer)
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    data: dict[str, Any] = _ADAPTERS[kind].dump_python(answer, mode="json", by_alias=True)
    unasked = [d for d in _DIMENSIONS if d not in data["by"]]
    data["rows"] = [
        {key: value for key, value in row.items() if key not in unasked} for row in data["rows"]
    ]
    return data


def _spending(a: dict[str, Any]) -> Rows:
    rows = [{"section": "row", **r} for r in a["rows"]]
    return (
        rows
        + [{"section": "total", **t} for t in a["totals"]]
        + [{"section": "left_out", "left_out": a["left_out"]}]
    )


def _flows(a: dict[str, Any]) -> Rows:
    rows = [{"section": "row", **r} for r in a["rows"]]
    return rows + [{"section": "total", **t} for t in a["totals"]]


def _durations(a: dict[str, Any]) -> Rows:
    rows: Rows = []
    for r in a["rows"]:
        cell = {key: value for key, value in r.items() if key != "bands"}
        rows.append({"section": "row", **cell})
        dims = {d: r[d] for d in a["by"]}
        rows += [{"section": "band", **dims, **band} for band in r["bands"] or []]
    return rows


def _full_year(a: dict[str, Any]) -> Rows:
    rows = [{"section": "row", **r} for r in a["rows"]]
    return rows + [{"section": "total", **t} for t in a["totals"]]


TABLES: dict[type[Any], Callable[[dict[str, Any]], Rows]] = {
    Spending: _spending,
    Flows: _flows,
    Durations: _durations,
    FullYear: _full_year,
}


def money_csv(answer: MoneyAnswer) -> str:
    """The CSV form of one money or movement answer."""
    return write_csv(TABLES[type(answer)](money_json(answer)))
