"""A form's refusals as a page shows them: the field and the rule, labelled in its language.

Services refuse with `InvalidInput` (or `Conflict`, `NotFound`) whose `errors` name the
field and the rule (`{"field": "password", "rule": "min_length", "limit": 12}`); a page
turns them into :class:`FieldError` and its template labels them (`field_<field>`,
`rule_<rule>` with `{limit}`), falling back to the service's sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.core.errors import RegistryError


@dataclass(frozen=True)
class FieldError:
    """One field of a form that broke one rule."""

    field: str
    rule: str
    limit: int | None = None
    #: the service's own sentence (English), for a rule the labels do not know
    message: str = ""


def field_errors(exc: RegistryError, field: str, rule: str = "invalid") -> list[FieldError]:
    """The field errors a refusal carries; else one for `field` with the refusal's sentence."""
    found = [
        FieldError(
            field=str(e.get("field") or field),
            rule=str(e.get("rule") or rule),
            limit=e.get("limit") if isinstance(e.get("limit"), int) else None,
            message=str(e.get("message") or exc.detail),
        )
        for e in exc.errors or []
    ]
    return found or [FieldError(field, rule, None, exc.detail)]


def errors_by_field(errors: list[FieldError]) -> dict[str, list[FieldError]]:
    """The errors grouped by field, for marking each input."""
    grouped: dict[str, list[FieldError]] = {}
    for error in errors:
        grouped.setdefault(error.field, []).append(error)
    return grouped
