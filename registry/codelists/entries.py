"""A list's entries as an admin sends them (JSON objects or CSV rows), checked against limits.

Every refusal names the field (`entries[3].valid_to`, `file`, `name`) and the rule it broke.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.codelists.models import KINDS
from registry.codelists.schemas import EntryIn
from registry.core.errors import InvalidInput, PayloadTooLarge

#: Most codes in one version; longest code, description, attribute value; most attributes.
MAX_ENTRIES = 5000
MAX_CODE = 32
MAX_DESCRIPTION = 500
MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_VALUE = 200
#: Longest status word: the feed's `enrolment.status` limit (a test pins the two equal).
MAX_STATUS_WORD = 16
#: Largest CSV upload, in bytes.
MAX_CSV_BYTES = 1_000_000
#: The first errors found are reported; past this many the rest are left out.
MAX_REPORTED = 20

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{1,63}$"
#: A programme's code, as `registry.programmes.codes` defines it (a test pins the two equal).
OWNER_PATTERN = r"^[A-Z0-9_-]{2,32}$"
_NAME = re.compile(NAME_PATTERN)
_OWNER = re.compile(OWNER_PATTERN)
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: CSV columns that are not attributes; any other non-empty column is one.
_DESCRIPTION_COLUMNS = ("description", "description_da", "name")
_FIXED = ("code", "valid_from", "valid_to", *_DESCRIPTION_COLUMNS)


@dataclass(frozen=True)
class ListHeader:
    """A list's name, kind and owner, checked."""

    name: str
    kind: str
    owner: str | None


def _refusal(errors: list[dict[str, str]]) -> InvalidInput:
    shown = errors[:MAX_REPORTED]
    return InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in shown), errors=shown)


def _error(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": message}


def check_header(name: str, kind: str, owner: str | None) -> ListHeader:
    """The list's name (lower-case), kind and owner (a programme code or none), or a refusal."""
    errors = []
    if not _NAME.match(name):
        errors.append(_error("name", "list_name", "name must be 2-64 of a-z, 0-9, '_', '.', '-'"))
    if kind not in KINDS:
        errors.append(_error("kind", "kind", f"kind must be one of {', '.join(KINDS)}"))
    owner = owner or None
    if owner is not None and not _OWNER.match(owner):
        errors.append(
            _error(
                "owner", "programme_code", "owner must be 2-32 capital letters, digits, '_' or '-'"
            )
        )
    if errors:
        raise _refusal(errors)
    return ListHeader(name, kind, owner)


def _text(value: Any, field: str, limit: int, errors: list[dict[str, str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(_error(field, "invalid_type", f"{field} must be text"))
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append(_error(field, "max_length", f"{field} has more than {limit} characters"))
    elif _CONTROL.search(value):
        errors.append(_error(field, "invalid_characters", f"{field} contains control characters"))
    return value


def _day(value: Any, field: str, errors: list[dict[str, str]]) -> date | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    errors.append(_error(field, "invalid_date", f"{field} must be a real date written YYYY-MM-DD"))
    return None


def _entry(
    raw: Any, at: str, kind: str, statuses: frozenset[str], errors: list[dict[str, str]]
) -> EntryIn | None:
    if not isinstance(raw, Mapping):
        errors.append(_error(at, "invalid_type", f"{at} must be an object"))
        return None
    code = _text(raw.get("code"), f"{at}.code", MAX_CODE, errors)
    if not code:
        errors.append(_error(f"{at}.code", "required", f"{at}.code is required"))
    elif not _CODE.match(code):
        errors.append(
            _error(f"{at}.code", "invalid_code", "a code is letters, digits, '.', '_' or '-'")
        )
    description = _text(raw.get("description"), f"{at}.description", MAX_DESCRIPTION, errors)
    attributes = _attributes(raw.get("attributes"), f"{at}.attributes", errors)
    valid_from = _day(raw.get("valid_from"), f"{at}.valid_from", errors)
    valid_to = _day(raw.get("valid_to"), f"{at}.valid_to", errors)
    if valid_from and valid_to and valid_to < valid_from:
        errors.append(
            _error(f"{at}.valid_to", "before_valid_from", "valid_to is before valid_from")
        )
    if kind == "status_map":
        _status_rule(code, attributes, at, statuses, errors)
    return EntryIn(code, description, attributes, valid_from, valid_to)


def _attributes(raw: Any, at: str, errors: list[dict[str, str]]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors.append(_error(at, "invalid_type", f"{at} must be an object of texts"))
        return {}
    if len(raw) > MAX_ATTRIBUTES:
        errors.append(_error(at, "max_items", f"{at} has more than {MAX_ATTRIBUTES} attributes"))
        return {}
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _ATTRIBUTE.match(key):
            errors.append(_error(at, "attribute_name", "an attribute name is a-z, 0-9 and '_'"))
            continue
        text_value = _text(value, f"{at}.{key}", MAX_ATTRIBUTE_VALUE, errors)
        if text_value:
            out[key] = text_value
    return out


def _status_rule(
    code: str,
    attributes: dict[str, str],
    at: str,
    statuses: frozenset[str],
    errors: list[dict[str, str]],
) -> None:
    """A status map's word maps to a registry status and does not redefine one."""
    if len(code) > MAX_STATUS_WORD:
        errors.append(
            _error(
                f"{at}.code",
                "max_length",
                f"a status word has at most {MAX_STATUS_WORD} characters",
            )
        )
    if code in statuses:
        errors.append(
            _error(f"{at}.code", "registry_status", f"{code!r} is a registry status already")
        )
    target = attributes.get("status")
    if target not in statuses:
        errors.append(
            _error(
                f"{at}.attributes.status",
                "status_target",
                f"a status map's entry maps to one of {', '.join(sorted(statuses))}",
            )
        )


def check_entries(raw: Any, kind: str, statuses: frozenset[str]) -> list[EntryIn]:
    """The entries checked: a non-empty list within the limits, no code valid twice at once."""
    if not isinstance(raw, list) or not raw:
        raise _refusal([_error("entries", "required", "entries must be a non-empty list")])
    if len(raw) > MAX_ENTRIES:
        raise PayloadTooLarge(
            f"a list holds at most {MAX_ENTRIES} codes; got {len(raw)}",
            errors=[_error("entries", "max_items", f"at most {MAX_ENTRIES} codes")],
        )
    errors: list[dict[str, str]] = []
    entries = [_entry(item, f"entries[{i}]", kind, statuses, errors) for i, item in enumerate(raw)]
    checked = [e for e in entries if e is not None]
    if not errors:
        errors.extend(_overlaps(checked))
    if errors:
        raise _refusal(errors)
    return checked


def _overlaps(entries: Iterable[EntryIn]) -> list[dict[str, str]]:
    """A code listed twice must have periods that do not overlap."""
    errors = []
    seen: dict[str, list[tuple[int, EntryIn]]] = {}
    for i, entry in enumerate(entries):
        for _, other in seen.get(entry.code, []):
            if (
                other.valid_to is None
                or entry.valid_from is None
                or other.valid_to >= entry.valid_from
            ) and (
                entry.valid_to is None
                or other.valid_from is None
                or entry.valid_to >= other.valid_from
            ):
                errors.append(
                    _error(
                        f"entries[{i}].code",
                        "duplicate_code",
                        f"code {entry.code!r} is listed twice for overlapping dates",
                    )
                )
                break
        seen.setdefault(entry.code, []).append((i, entry))
    return errors


def entries_from_csv(data: bytes) -> list[dict[str, Any]]:
    """A CSV file's rows as entry objects: code, description, valid_from, valid_to; any
    other column is an attribute (e.g. `paragraph`, or `status` for a status map)."""
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(
            f"a code-list file has at most {MAX_CSV_BYTES} bytes",
            errors=[_error("file", "max_bytes", f"at most {MAX_CSV_BYTES} bytes")],
        )
    try:
        text_form = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refusal([_error("file", "encoding", "the file must be UTF-8 text")]) from exc
    try:
        reader = csv.DictReader(io.StringIO(text_form, newline=""))
        columns = reader.fieldnames or []
        if "code" not in columns:
            raise _refusal(
                [_error("file", "columns", "the file needs a header with a 'code' column")]
            )
        rows = []
        for number, row in enumerate(reader):
            if number >= MAX_ENTRIES:
                raise PayloadTooLarge(
                    f"a list holds at most {MAX_ENTRIES} codes",
                    errors=[_error("file", "max_items", f"at most {MAX_ENTRIES} codes")],
                )
            rows.append(_row(row))
    except csv.Error as exc:
        raise _refusal([_error("file", "csv", f"the file is not readable CSV: {exc}")]) from exc
    return rows


def _row(row: Mapping[str | None, Any]) -> dict[str, Any]:
    description = next((row[c] for c in _DESCRIPTION_COLUMNS if row.get(c)), "")
    attributes = {
        str(k): v
        for k, v in row.items()
        if k is not None and k not in _FIXED and isinstance(v, str) and v
    }
    return {
        "code": row.get("code"),
        "description": description,
        "attributes": attributes,
        "valid_from": row.get("valid_from") or None,
        "valid_to": row.get("valid_to") or None,
    }
