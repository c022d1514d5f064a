"""Whole calendar periods for the money and movement answers, and their dimensions.

Every range is widened to whole periods (`from` to the first day of its month, quarter or
year; `to` to the last day of its own), so two answers can only differ by whole periods,
each protected on its own: no answer publishes a part of a period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from registry.core.errors import InvalidInput
from registry.overview.queries import DIMENSION_SQL

#: The period lengths, in months.
INTERVALS = {"month": 1, "quarter": 3, "year": 12}
#: The most months one answer covers (twenty years).
MAX_MONTHS = 240


@dataclass(frozen=True)
class Period:
    """One calendar period: its first and last day."""

    start: date
    end: date


def _first(day: date, months: int) -> date:
    """The first day of the period of `months` months holding the day."""
    month = (day.month - 1) // months * months + 1
    return date(day.year, month, 1)


def _shift(day: date, months: int) -> date:
    """The first day of the month `months` months after the first day `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def periods(start: date, end: date, interval: str) -> list[Period]:
    """The whole periods covering [start, end]; a clear error for a bad interval or range."""
    if interval not in INTERVALS:
        raise _invalid("interval", f"interval must be one of {', '.join(INTERVALS)}")
    if end < start:
        raise _invalid("to", "`to` is before `from`")
    months = INTERVALS[interval]
    first = _first(start, months)
    last = _shift(_first(end, months), months)
    if (last.year - first.year) * 12 + last.month - first.month > MAX_MONTHS:
        raise _invalid("to", f"at most {MAX_MONTHS} months from `from` to `to`")
    found = []
    day = first
    while day < last:
        following = _shift(day, months)
        found.append(Period(day, following - timedelta(days=1)))
        day = following
    return found


def months_of(period: Period) -> list[Period]:
    """The calendar months of a period."""
    return periods(period.start, period.end, "month")


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"invalid `{field}`: {message}",
        errors=[{"field": field, "code": "invalid", "message": message}],
    )


def parse_by(by: str | Sequence[str], allowed: Sequence[str]) -> list[str]:
    """The requested dimensions among `allowed`, in order, without repeats (422 on `by`)."""
    parts = by.split(",") if isinstance(by, str) else list(by)
    names = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    unknown = [n for n in names if n not in allowed]
    if unknown or not names or len(names) > 3:
        if unknown:
            problem = f"unknown dimension {', '.join(repr(u) for u in unknown)}"
        elif names:
            problem = "at most three dimensions"
        else:
            problem = "at least one dimension is required"
        message = f"{problem}; `by` takes a comma-separated list of: {', '.join(allowed)}"
        raise InvalidInput(
            f"invalid `by`: {message}",
            errors=[{"field": "by", "code": "invalid_dimension", "message": message}],
        )
    return names


#: The dimensions of the money answers (episode attributes; no age on a day).
MONEY_DIMENSIONS = ("programme", "benefit_code", "region", "municipality", "target_group")
#: The dimensions of the movement answers: the money ones and the age band at the event.
MOVEMENT_DIMENSIONS = (*MONEY_DIMENSIONS, "age_band")


def dimension_sql(name: str, day: str = "CAST(:as_of AS date)") -> str:
    """A dimension's SQL (queries.DIMENSION_SQL); the age band on the day `day`."""
    return DIMENSION_SQL[name].replace("CAST(:as_of AS date)", day)
