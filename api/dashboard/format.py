"""How the dashboard writes numbers, dates, times, codes and CSV for the page's language.

Numbers: 7.399 and 3,5 in Danish, 7,399 and 3.5 in English. Dates and times are shown in
Danish local time (``Europe/Copenhagen``, summer time included), whatever the server's zone:
the registry stores UTC, the users are in Denmark. Codes are shown with their names where a
code list knows them (regions and municipalities: DST's lists; benefit codes: L402;
programmes: the programme table, passed in by the page), an unknown code as the code alone.

CSV: a Danish page's CSV is written for Danish Excel, which splits on ``;`` and reads UTF-8
only after a byte-order mark; an English page's CSV stays the API's (``,``, no mark).
Every filter here is registered on the dashboard's Jinja environment (``api.dashboard``);
pages call the plain functions too.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from api.dashboard.clock import ZONE, as_instant
from api.dashboard.svg import SUPPRESSED
from registry.codelists.loader import benefit_codes, municipality_name, region_name
from registry.core.csvfile import csv_writer

#: The zone every time on the dashboard is shown in.
#: What Danish Excel needs to open a CSV as columns of UTF-8 text.
EXCEL_BOM = "\ufeff"
EXCEL_SEPARATOR = ";"

_MONTHS = {
    "da": (
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "maj",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "okt.",
        "nov.",
        "dec.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


_DANISH = str.maketrans(",.", ".,")


def number(value: int | float | None, lang: str, digits: int = 0) -> str:
    """A number with the language's separators; None (suppressed) as the suppression mark."""
    if value is None:
        return SUPPRESSED
    text = f"{value:,.{digits}f}" if digits or isinstance(value, float) else f"{int(value):,}"
    if lang == "da":
        return text.translate(_DANISH)
    return text


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


def format_date(value: date | str | None, lang: str) -> str:
    """A day as the language writes it: 1. jul. 2024, 1 Jul 2024."""
    if value is None or value == "":
        return "–"
    day = _as_date(value)
    month = _MONTHS["da" if lang == "da" else "en"][day.month - 1]
    return f"{day.day}. {month} {day.year}" if lang == "da" else f"{day.day} {month} {day.year}"


def format_datetime(value: datetime | str | None, lang: str) -> str:
    """A moment in Danish local time, to the minute: 1. jul. 2024 14:03."""
    if value is None or value == "":
        return "–"
    moment = as_instant(value).astimezone(ZONE)
    return f"{format_date(moment.date(), lang)} {moment:%H:%M}"


def region_label(code: str | None, lang: str) -> str:
    """'1084 Region Hovedstaden'; an unknown code alone; no code as a dash."""
    if not code:
        return "–"
    name = region_name(code, lang)
    return f"{code} {name}" if name else code


def municipality_label(code: str | None) -> str:
    """'101 København'; an unknown code alone; no code as a dash."""
    if not code:
        return "–"
    name = municipality_name(code)
    return f"{code} {name}" if name else code


def benefit_name(code: str | None) -> str | None:
    """The L402 description of a benefit code (Danish), or None."""
    return benefit_codes().get(code or "")


def excel_csv(text: str, lang: str) -> str:
    """A CSV as the page's language opens it: Danish → `;`-separated with a BOM, else as is."""
    if lang != "da":
        return text
    out = io.StringIO()
    writer = csv_writer(out, delimiter=EXCEL_SEPARATOR, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow(_Numeral(c) if _NUMERAL.fullmatch(c) else c for c in row)
    return EXCEL_BOM + out.getvalue()


_NUMERAL = re.compile(r"-?\d+(\.\d+)?")


class _Numeral:
    """A number read back from CSV text, written as it was (a negative one is no formula)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _lang(context: Context) -> str:
    return str(context.get("lang", "en"))


@pass_context
def number_filter(context: Context, value: int | float | None, digits: int = 0) -> str:
    """Jinja: ``{{ n|number }}`` in the page's language."""
    return number(value, _lang(context), digits)


@pass_context
def date_filter(context: Context, value: date | str | None) -> str:
    """Jinja: ``{{ day|day }}`` in the page's language."""
    return format_date(value, _lang(context))


@pass_context
def datetime_filter(context: Context, value: datetime | str | None) -> str:
    """Jinja: ``{{ moment|moment }}`` in Danish local time, the page's language."""
    return format_datetime(value, _lang(context))


@pass_context
def region_filter(context: Context, code: str | None) -> str:
    """Jinja: ``{{ code|region }}``: the code and the region's name."""
    return region_label(code, _lang(context))


#: The filters the dashboard's templates use.
FILTERS: dict[str, Any] = {
    "number": number_filter,
    "day": date_filter,
    "moment": datetime_filter,
    "region": region_filter,
    "municipality": municipality_label,
    "benefit_name": benefit_name,
}
