"""The feed record's contract, generated from the field specification (registry.records.fields).

Two renderings of the one specification: the JSON schema of a record (OpenAPI's description
of a batch's `records`) and docs/data-dictionary.md (`registry docs data-dictionary`). Neither
validates anything: validation stays registry.ingest.validation, per record, so one bad record
never sinks a batch.
"""

from __future__ import annotations

import json
from typing import Any

from registry.records.fields import (
    CODE_LISTS,
    ENROLMENT,
    ENROLMENT_OBJECT,
    RECORD,
    Field,
)

#: Where the generated dictionary is kept, from the repository's root.
DICTIONARY_PATH = "docs/data-dictionary.md"

_RECORD_TEXT = (
    "One beneficiary record of a programme's MIS. Each record is validated on its own: a "
    "problem rejects that record only, named by field and rule code in the batch's answer. "
    "Unknown fields are ignored with an `unknown_field` warning. A retraction "
    '(`"retracted": true`) needs only `source_id`.'
)


def _description(field: Field) -> str:
    parts = [field.description]
    if field.code_list:
        parts.append(f"Code list: {field.code_list}.")
    if field.check:
        parts.append(f"Rule: {field.check}")
    return " ".join(p for p in parts if p)


def field_schema(field: Field) -> dict[str, Any]:
    """One field's JSON schema: type (null allowed unless required), format, limits, rule."""
    schema: dict[str, Any] = {
        "type": field.json_type if field.required else [field.json_type, "null"],
        "description": _description(field),
    }
    if field.json_format:
        schema["format"] = field.json_format
    if field.limit is not None:
        schema["maxLength"] = field.limit
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.below is not None:
        schema["exclusiveMaximum"] = field.below
    if field.code_list:
        schema["x-code-list"] = field.code_list
    if field.check:
        schema["x-rule"] = field.check
    if field.example is not None:
        schema["examples"] = [field.example]
    return schema


def _object(fields: tuple[Field, ...], title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "description": description,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: field_schema(f) for f in fields},
        "additionalProperties": True,
    }


def enrolment_schema() -> dict[str, Any]:
    """The JSON schema of a record's enrolment object."""
    schema = _object(ENROLMENT, "FeedEnrolment", _description(ENROLMENT_OBJECT))
    schema["x-rule"] = ENROLMENT_OBJECT.check
    return schema


def record_schema() -> dict[str, Any]:
    """The JSON schema of one feed record, every field typed with its format, list and rule."""
    schema = _object(RECORD, "FeedRecord", _RECORD_TEXT)
    schema["properties"][ENROLMENT_OBJECT.name] = enrolment_schema()
    schema["examples"] = [example_record()]
    return schema


def example_record() -> dict[str, Any]:
    """A valid record made of every field's example."""
    record: dict[str, Any] = {f.name: f.example for f in RECORD if f is not ENROLMENT_OBJECT}
    record[ENROLMENT_OBJECT.name] = {f.name: f.example for f in ENROLMENT}
    return record


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _limits(field: Field) -> str:
    found = []
    if field.limit is not None:
        found.append(f"at most {field.limit} characters")
    if field.minimum is not None:
        found.append(f">= {field.minimum:,.0f}")
    if field.below is not None:
        found.append(f"< {field.below:,.0f}")
    return ", ".join(found)


def _type(field: Field) -> str:
    return f"{field.json_type} ({field.json_format})" if field.json_format else field.json_type


def _table(fields: tuple[Field, ...], prefix: str = "") -> list[str]:
    lines = [
        "| Field | Type | Required | Limits | Code list | Meaning and rule | Example |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in fields:
        example = "" if f.example is None else f"`{json.dumps(f.example, ensure_ascii=False)}`"
        meaning = " ".join(p for p in (f.description, f.check) if p)
        lines.append(
            f"| `{prefix}{f.name}` | {_type(f)} | {'yes' if f.required else 'no'} "
            f"| {_limits(f)} | {f.code_list or ''} | {_cell(meaning)} | {_cell(example)} |"
        )
    return lines


def data_dictionary() -> str:
    """docs/data-dictionary.md: every field of a feed record, its code lists, an example."""
    example = json.dumps(example_record(), indent=2, ensure_ascii=False)
    lines = [
        "# Data dictionary: the feed record",
        "",
        "Generated from `registry/records/fields.py` by `registry docs data-dictionary` (or",
        "`make data-dictionary`); do not edit by hand: a test compares it with the generated one.",
        "The same specification drives validation, the ingest stage and the OpenAPI schema of",
        "`POST /api/v1/programmes/{code}/batches` (`FeedRecord` in `/openapi.json`).",
        "",
        _RECORD_TEXT,
        "",
        "Every field but those marked required may be null or left out. An error names the",
        "field as the answer does: top-level fields by name, enrolment fields as",
        "`enrolment.<name>`.",
        "",
        "## Record (top level)",
        "",
        *_table(RECORD),
        "",
        "## Enrolment (`enrolment`)",
        "",
        *_table(ENROLMENT, "enrolment."),
        "",
        "## Code lists",
        "",
        *(f"* **{name}**: {text}" for name, text in CODE_LISTS.items()),
        "",
        "## An example record",
        "",
        "```json",
        example,
        "```",
        "",
    ]
    return "\n".join(lines)
