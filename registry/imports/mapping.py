"""Column mappings: how one programme's export file becomes API.md feed records.

A mapping is a JSON document (no new dependency; see docs/architecture.md)::

    {
      "programme": "SEL85",
      "columns": {
        "Sagsnr": "source_id",
        "CPR": {"field": "national_id", "zfill": 10},
        "Fødselsdato": {"field": "birth_date", "date_format": ["%d-%m-%Y", "%d.%m.%Y"]},
        "Køn": {"field": "sex", "codes": {"1": "M", "2": "F"}},
        "Ydelse": {"field": "enrolment.benefit_code", "codes": {"BST": "1.12.0.2"}},
        "Beløb": {"field": "enrolment.amount", "decimal": ","}
      },
      "constants": {"enrolment.status": "active"},
      "csv": {"encoding": "utf-8-sig", "delimiter": ";"},
      "sheet": "Ark1"
    }

A column maps to one registry field; a constant fills a field no column gives.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry.core.errors import InvalidInput
from registry.imports.limits import LIMITS, ImportLimits, count
from registry.records.fields import ENROLMENT_FIELDS, PERSON_FIELDS

ENROLMENT_PREFIX = "enrolment."
REGISTRY_FIELDS = (
    "source_id",
    *PERSON_FIELDS,
    *(ENROLMENT_PREFIX + name for name in ENROLMENT_FIELDS),
)
DATE_FIELDS = frozenset(("birth_date", "enrolment.start_date", "enrolment.end_date"))
NUMBER_FIELDS = frozenset(("enrolment.amount",))
ISO_FORMAT = "%Y-%m-%d"
_COLUMN_KEYS = frozenset(("field", "date_format", "codes", "keep_unmapped", "decimal", "zfill"))
_TOP_KEYS = frozenset(("programme", "columns", "constants", "csv", "sheet", "description"))
_CSV_KEYS = frozenset(("encoding", "delimiter"))
#: The text encodings a CSV may be read in (canonical codec names). Not any codec Python
#: knows: zlib_codec, rot13, base64 are not text encodings, and utf-7, idna, punycode or
#: unicode_escape are no export's encoding. utf-16 needs its byte-order mark.
TEXT_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "ascii",
        "latin-1",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{n}" for n in range(1250, 1259)),
        "cp437",
        "cp850",
        "cp865",
        "mac-roman",
    )
)

Issue = dict[str, str]


@dataclass(frozen=True)
class ColumnRule:
    """One source column: the registry field it fills and how its values are read."""

    column: str
    field: str
    date_formats: tuple[str, ...] = ()
    codes: Mapping[str, str | None] | None = None
    keep_unmapped: bool = False
    decimal_comma: bool = False
    zfill: int | None = None


@dataclass(frozen=True)
class ColumnMapping:
    """A whole mapping file, checked: column rules, constants and reader options."""

    columns: tuple[ColumnRule, ...]
    constants: Mapping[str, Any] = field(default_factory=dict)
    programme: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str | None = None
    digest: str = ""

    def column_of(self, field_name: str) -> str | None:
        """The source column that fills a registry field (None for constants and others)."""
        for rule in self.columns:
            if rule.field == field_name:
                return rule.column
        return None


def _problem(where: str, message: str) -> dict[str, str]:
    return {"field": where, "code": "invalid_mapping", "message": message}


def parse_mapping(document: Any, limits: ImportLimits = LIMITS) -> ColumnMapping:
    """Check a mapping document (parsed JSON); every problem named, 422 if any."""
    problems: list[dict[str, str]] = []
    if not isinstance(document, dict):
        raise InvalidInput(
            "the mapping must be a JSON object", errors=[_problem("mapping", "not an object")]
        )
    for key in sorted(set(document) - _TOP_KEYS):
        problems.append(_problem(str(key), "unknown key in the mapping"))
    columns = document.get("columns")
    rules: list[ColumnRule] = []
    if not isinstance(columns, dict) or not columns:
        problems.append(_problem("columns", "columns must map source columns to fields"))
    else:
        for column, spec in columns.items():
            rule = _column_rule(str(column), spec, problems, limits)
            if rule is not None:
                rules.append(rule)
    constants = document.get("constants") or {}
    if not isinstance(constants, dict):
        problems.append(_problem("constants", "constants must map fields to values"))
        constants = {}
    _check_constants(constants, problems, limits)
    filled = [rule.field for rule in rules] + list(constants)
    for name in sorted({n for n in filled if filled.count(n) > 1}):
        problems.append(_problem(name, "field is filled more than once"))
    if "source_id" not in [rule.field for rule in rules]:
        problems.append(_problem("source_id", "a column must be mapped to source_id"))
    csv_options = document.get("csv") or {}
    if not isinstance(csv_options, dict) or set(csv_options) - _CSV_KEYS:
        problems.append(_problem("csv", "csv takes only encoding and delimiter"))
        csv_options = {}
    encoding = csv_options.get("encoding", "utf-8-sig")
    delimiter = csv_options.get("delimiter", ",")
    if not isinstance(encoding, str) or not text_encoding(encoding):
        problems.append(
            _problem(
                "csv.encoding",
                f"{str(encoding)[:40]!r} is not a text encoding a CSV is read in "
                "(utf-8, utf-8-sig, utf-16 with its byte-order mark, utf-16-le, utf-16-be, "
                "latin-1, iso8859-N, cp125N, cp850, cp865 …)",
            )
        )
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.append(_problem("csv.delimiter", "the delimiter must be one character"))
    programme = document.get("programme")
    sheet = document.get("sheet")
    if programme is not None and (not isinstance(programme, str) or len(programme) > 32):
        problems.append(_problem("programme", "programme must be a code (at most 32 characters)"))
    if sheet is not None and (not isinstance(sheet, str) or len(sheet) > limits.name_chars):
        problems.append(
            _problem(
                "sheet", f"sheet must be a sheet name of at most {limits.name_chars} characters"
            )
        )
    description = document.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > limits.text_chars
    ):
        problems.append(
            _problem(
                "description", f"description is text of at most {limits.text_chars} characters"
            )
        )
    if "\\u0000" in json.dumps(document):
        problems.append(_problem("mapping", "the mapping contains NUL characters"))
    if problems:
        raise InvalidInput(
            f"the mapping is not valid: {_summary(problems)}", errors=problems[: limits.problems]
        )
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return ColumnMapping(
        columns=tuple(rules),
        constants=dict(constants),
        programme=programme,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _summary(problems: list[dict[str, str]]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first['field']}: {first['message']}{more}"


def text_encoding(name: str) -> str | None:
    """The canonical name of an allowed CSV text encoding; None for any other name."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return canonical if canonical in TEXT_ENCODINGS else None


def _column_rule(
    column: str, spec: Any, problems: list[dict[str, str]], limits: ImportLimits
) -> ColumnRule | None:
    where = f"columns.{column[:80]}"
    if len(column) > limits.name_chars:
        problems.append(
            _problem(where, f"a column name has at most {limits.name_chars} characters")
        )
        return None
    if isinstance(spec, str):
        spec = {"field": spec}
    if not isinstance(spec, dict):
        problems.append(_problem(where, "a column maps to a field name or an object"))
        return None
    for key in sorted(set(spec) - _COLUMN_KEYS):
        problems.append(_problem(f"{where}.{key}", "unknown key in a column rule"))
    target = spec.get("field")
    if target not in REGISTRY_FIELDS:
        problems.append(
            _problem(where, f"field {target!r} is not one of {', '.join(REGISTRY_FIELDS)}")
        )
        return None
    formats = spec.get("date_format", ())
    if isinstance(formats, str):
        formats = (formats,)
    if (
        not isinstance(formats, list | tuple)
        or not all(isinstance(f, str) and len(f) <= limits.name_chars for f in formats)
        or len(formats) > limits.date_formats
    ):
        problems.append(
            _problem(
                f"{where}.date_format",
                f"a format or a list of at most {limits.date_formats} formats "
                f"of at most {limits.name_chars} characters",
            )
        )
        formats = ()
    if formats and target not in DATE_FIELDS:
        problems.append(_problem(f"{where}.date_format", f"{target} is not a date field"))
    for fmt in formats:
        if "%" not in fmt:
            problems.append(_problem(f"{where}.date_format", f"{fmt!r} is not a strftime format"))
    codes = spec.get("codes")
    if codes is not None and (
        not isinstance(codes, dict)
        or not all(isinstance(v, str | type(None)) for v in codes.values())
    ):
        problems.append(_problem(f"{where}.codes", "codes map source values to codes (text)"))
        codes = None
    if codes is not None and (
        len(codes) > limits.codes
        or any(
            len(k) > limits.name_chars or len(v or "") > limits.name_chars for k, v in codes.items()
        )
    ):
        problems.append(
            _problem(
                f"{where}.codes",
                f"at most {count(limits.codes)} codes, each of at most {limits.name_chars} "
                "characters",
            )
        )
        codes = None
    decimal = spec.get("decimal", ".")
    if decimal not in (".", ","):
        problems.append(_problem(f"{where}.decimal", "decimal is '.' or ','"))
    zfill = spec.get("zfill")
    if zfill is not None and (
        not isinstance(zfill, int) or isinstance(zfill, bool) or not 1 <= zfill <= limits.zfill
    ):
        problems.append(
            _problem(f"{where}.zfill", f"zfill is a width from 1 to at most {limits.zfill}")
        )
        zfill = None
    keep = spec.get("keep_unmapped", False)
    if not isinstance(keep, bool):
        problems.append(_problem(f"{where}.keep_unmapped", "true or false"))
        keep = False
    if target in DATE_FIELDS and not formats:
        formats = (ISO_FORMAT,)
    return ColumnRule(
        column=column,
        field=target,
        date_formats=tuple(formats),
        codes={str(k): v for k, v in codes.items()} if codes is not None else None,
        keep_unmapped=keep,
        decimal_comma=decimal == ",",
        zfill=zfill,
    )


def _check_constants(
    constants: dict[str, Any], problems: list[dict[str, str]], limits: ImportLimits
) -> None:
    for name, value in constants.items():
        where = f"constants.{name[:80]}"
        if name == "source_id":
            problems.append(_problem(where, "source_id cannot be a constant"))
        elif name not in REGISTRY_FIELDS:
            problems.append(_problem(where, f"{name!r} is not a registry field"))
        elif value is not None and not isinstance(value, str | int | float):
            problems.append(_problem(where, "a constant is text, a number or null"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(_problem(where, "a constant number is finite"))
        elif isinstance(value, str) and len(value) > limits.text_chars:
            problems.append(
                _problem(where, f"a constant has at most {limits.text_chars} characters")
            )
        elif name in DATE_FIELDS and value is not None:
            try:
                datetime.strptime(str(value), ISO_FORMAT)
            except ValueError:
                problems.append(_problem(where, "a constant date is written YYYY-MM-DD"))


def load_mapping(source: str | bytes, limits: ImportLimits = LIMITS) -> ColumnMapping:
    """Parse and check a mapping given as JSON text: size and nesting bounded before parsing."""
    try:
        text = source if isinstance(source, str) else source.decode(json.detect_encoding(source))
    except (UnicodeDecodeError, LookupError) as exc:
        raise _not_json(exc) from exc
    if len(text) > limits.mapping_chars:
        raise _refused(f"the mapping has more than {count(limits.mapping_chars)} characters")
    if _depth(text) > limits.mapping_depth:
        raise _refused(f"the mapping is nested deeper than {limits.mapping_depth} levels")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _not_json(exc) from exc
    return parse_mapping(document, limits)


def _refused(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[_problem("mapping", message)])


def _not_json(exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"the mapping is not valid JSON: {str(exc)[:200]}",
        errors=[_problem("mapping", "not valid JSON")],
    )


def _depth(text: str) -> int:
    """How deep objects and arrays nest in JSON text (strings left out), without parsing it."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def read_mapping_file(path: Path, limits: ImportLimits = LIMITS) -> ColumnMapping:
    """Parse and check a mapping file (read up to its size limit)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(4 * limits.mapping_chars + 1)  # UTF-8: up to 4 bytes a character
    except OSError as exc:
        raise InvalidInput(f"cannot read the mapping file {path}: {exc.strerror}") from exc
    if len(data) > 4 * limits.mapping_chars:
        raise _refused(f"the mapping has more than {count(limits.mapping_chars)} characters")
    return load_mapping(data, limits)


class RowMapper:
    """Turns the rows of one file (given its header) into feed records."""

    def __init__(self, mapping: ColumnMapping, header: Sequence[Any]) -> None:
        names = [_header_name(cell) for cell in header]
        missing = [rule.column for rule in mapping.columns if rule.column not in names]
        if missing:
            named = [n for n in names if n]
            shown = ", ".join(_shown(n) for n in named[:30]) + (" …" if len(named) > 30 else "")
            raise InvalidInput(
                f"the file has no column {missing[0]!r} named in the mapping "
                f"(its header: {shown or 'empty'})",
                errors=[
                    {
                        "field": column,
                        "code": "missing_column",
                        "message": "column named in the mapping is not in the file's header",
                    }
                    for column in missing
                ],
            )
        doubled = [rule.column for rule in mapping.columns if names.count(rule.column) > 1]
        if doubled:
            raise InvalidInput(f"the file's header has column {doubled[0]!r} more than once")
        self.rules = [(names.index(rule.column), rule) for rule in mapping.columns]
        self.constants = dict(mapping.constants)
        self.ignored = [n for n in names if n and n not in {r.column for r in mapping.columns}]

    def record(self, values: Sequence[Any]) -> tuple[dict[str, Any], list[Issue]]:
        """The feed record of one row and the problems found mapping it (field, code, message)."""
        flat: dict[str, Any] = dict(self.constants)
        issues: list[Issue] = []
        for index, rule in self.rules:
            raw = values[index] if index < len(values) else None
            value = _convert(raw, rule, issues)
            if value is not None:
                flat[rule.field] = value
        record: dict[str, Any] = {}
        enrolment: dict[str, Any] = {}
        for name, value in flat.items():
            if value is None:
                continue
            if name.startswith(ENROLMENT_PREFIX):
                enrolment[name.removeprefix(ENROLMENT_PREFIX)] = value
            else:
                record[name] = value
        if enrolment:
            record["enrolment"] = enrolment
        return record, issues


def _header_name(cell: Any) -> str:
    return "" if cell is None else " ".join(str(cell).removeprefix("\ufeff").split())


def _shown(text: str) -> str:
    """A value quoted in a rejection reason, cut to 64 characters."""
    return repr(text) if len(text) <= 64 else repr(text[:64]) + "…"


def _text(raw: Any) -> str | None:
    """A cell's value as text; None for empty cells."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw).strip()
    return text or None


def _issue(rule: ColumnRule, code: str, message: str) -> Issue:
    return {"field": rule.field, "code": code, "message": f"column {rule.column!r}: {message}"}


def _convert(raw: Any, rule: ColumnRule, issues: list[Issue]) -> Any:
    """One cell read by its rule: translated, parsed, padded; None when empty or wrong."""
    if rule.field in DATE_FIELDS and isinstance(raw, date):
        day = raw.date() if isinstance(raw, datetime) else raw
        return day.isoformat()
    text = _text(raw)
    if text is None:
        return None
    if "\x00" in text:
        issues.append(_issue(rule, "invalid_characters", "the value contains NUL characters"))
        return None
    if rule.codes is not None:
        if text in rule.codes:
            translated = rule.codes[text]
            if translated is None:
                return None
            text = translated
        elif not rule.keep_unmapped:
            issues.append(
                _issue(rule, "untranslated_code", f"value {_shown(text)} has no translation")
            )
            return None
    if rule.field in DATE_FIELDS:
        for fmt in rule.date_formats:
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        issues.append(
            _issue(
                rule,
                "invalid_date",
                f"{_shown(text)} is not a date written {' or '.join(rule.date_formats)}",
            )
        )
        return None
    if rule.field in NUMBER_FIELDS:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and rule.codes is None:
            return float(raw)
        cleaned = text.replace(" ", "").replace("\u00a0", "")
        if rule.decimal_comma:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            number = float(cleaned)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            issues.append(_issue(rule, "invalid_number", f"{_shown(text)} is not a number"))
            return None
        return number
    if rule.zfill:
        text = text.zfill(rule.zfill)
    return text
