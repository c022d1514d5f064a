"""What went wrong with a dashboard request, in the page's words: status headings, field rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Statuses with a heading and text of their own (`error_<status>`, `error_<status>_text`).
KNOWN_STATUSES = (400, 403, 404, 405, 409, 413, 422, 429, 500, 503)

#: Pydantic's error types → the rule's label key (`rule_<key>`); anything else is `invalid`.
_RULES = {
    "missing": "missing",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "date_type": "date",
    "datetime_parsing": "date",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "literal_error": "choice",
    "enum": "choice",
    "int_parsing": "number",
    "int_type": "number",
    "float_parsing": "number",
    "greater_than_equal": "at_least",
    "greater_than": "at_least",
    "less_than_equal": "at_most",
    "less_than": "at_most",
    "string_pattern_mismatch": "pattern",
}


@dataclass(frozen=True)
class Problem:
    """One field's fault, as the page shows it: the field's name and the rule it broke."""

    field: str
    rule: str


def status_key(status: int) -> str:
    """The label key of a status's heading: its own, or the general one of its class."""
    if status in KNOWN_STATUSES:
        return f"error_{status}"
    return "error_500" if status >= 500 else "error_400"


def field_problems(errors: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> list[Problem]:
    """Pydantic's validation errors as translated problems (never pydantic's own text)."""
    problems = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path")]
        name = ".".join(location) or "request"
        field = labels.get(f"field_{name}", labels.get(name, name))
        rule = _RULES.get(str(error.get("type", "")), "invalid")
        context = {k: _plain(v) for k, v in (error.get("ctx") or {}).items()}
        text = labels[f"rule_{rule}"]
        try:
            text = text.format(**context)
        except (KeyError, IndexError, ValueError):
            text = labels["rule_invalid"]
        problems.append(Problem(field=field, rule=text))
    return problems


def _plain(value: Any) -> str:
    """A rule's parameter as plain text: pydantic quotes choices ('a', 'b'); drop the quotes."""
    return str(value).replace("'", "")
