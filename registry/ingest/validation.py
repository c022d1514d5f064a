"""Per-record validation of feed records: every problem named by field and rule."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.codelists.book import ProgrammeCodes, default_book
from registry.codelists.loader import (
    UNSPECIFIED_TARGET_GROUP,
    UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX,
)
from registry.codelists.paragraphs import same_paragraph
from registry.identity.national_id import IdCheck, digest, mask
from registry.records.fields import (
    AMOUNT_PERIODS,
    EARLIEST_BIRTH,
    ENROLMENT_FIELDS,
    KNOWN_FIELDS,
    MAX_NAME,
    MAX_SOURCE_ID,
    PERSON,
    SEXES,
    STATUSES,
    Rule,
    by_name,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[0-9A-Za-z]{1,16}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Issue = dict[str, str]


@dataclass
class ValidRecord:
    """A record that passed validation, in the shape the ingest SQL needs."""

    source_id: str
    payload: dict[str, Any]
    payload_hash: bytes
    retracted: bool = False
    national_id_digest: bytes | None = None
    national_id_masked: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    region: str | None = None
    municipality: str | None = None
    mother_name: str | None = None
    benefit_code: str | None = None
    target_group: str | None = None
    status: str | None = None
    status_as_sent: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    amount: float | None = None
    amount_period: str | None = None
    legal_basis: str | None = None
    warnings: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class RuleSet:
    """What a programme accepts, and how national IDs are checked and digested.

    `codes`: the code lists the programme's records are checked against (the registry's and
    the programme's own, as `registry.codelists.book` loads them once per batch); without
    them, the shipped lists.
    """

    programme_benefit_codes: frozenset[str]
    check_national_id: Callable[[str], IdCheck]
    national_id_key: bytes
    today: date
    codes: ProgrammeCodes | None = None

    @property
    def code_lists(self) -> ProgrammeCodes:
        """The lists in force for this programme (the shipped ones when none were given)."""
        return self.codes or _SHIPPED_CODES


#: The shipped lists, for rules built without a database (`default_book`, read once).
_SHIPPED_CODES = default_book().for_programme("")


def _limit(name: str) -> int:
    """The most characters the named field's value may have (its specification's limit)."""
    limit = by_name(name).limit
    assert limit is not None, name
    return limit


def _issue(field_name: str, code: str, message: str) -> Issue:
    return {"field": field_name, "code": code, "message": message}


class _Checker:
    """Collects the errors and warnings of one record while its fields are read."""

    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, field_name: str, code: str, message: str) -> None:
        self.errors.append(_issue(field_name, code, message))

    def text(
        self, raw: Mapping[str, Any], key: str, prefix: str = "", limit: int = MAX_NAME
    ) -> str | None:
        value = raw.get(key)
        name = prefix + key
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(name, "invalid_type", f"{name} must be a string")
            return None
        value = " ".join(value.split())
        if len(value) > limit:
            self.error(name, "too_long", f"{name} has more than {limit} characters")
            return None
        if _CONTROL.search(value):
            self.error(name, "invalid_characters", f"{name} contains control characters")
            return None
        return value or None

    def code(self, raw: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
        value = self.text(raw, key, prefix, limit=16)
        if value is not None and not _CODE.match(value):
            self.error(prefix + key, "invalid_code", f"{prefix + key} {value!r} is not a code")
            return None
        return value

    def day(self, raw: Mapping[str, Any], key: str, prefix: str = "") -> date | None:
        value = raw.get(key)
        name = prefix + key
        if value is None:
            return None
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            self.error(name, "invalid_date", f"{name} must be a date written YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(name, "invalid_date", f"{name} {value} is not a real date")
            return None


def _canonical_hash(payload: Mapping[str, Any]) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).digest()


def validate_record(
    raw: Any, rules: RuleSet
) -> tuple[ValidRecord | None, list[Issue], list[Issue]]:
    """Validate one feed record: (record or None, errors, warnings)."""
    check = _Checker()
    if not isinstance(raw, dict):
        check.error("record", "invalid_type", "each record must be a JSON object")
        return None, check.errors, check.warnings
    source_id = check.text(raw, "source_id", limit=MAX_SOURCE_ID)
    if source_id is None and not check.errors:
        check.error("source_id", "required", "source_id is required")
    for unknown in sorted(set(raw) - KNOWN_FIELDS):
        check.warnings.append(
            _issue(str(unknown)[:100], "unknown_field", "field is not known; ignored")
        )
    retracted = raw.get("retracted")
    if retracted not in (None, True, False):
        check.error("retracted", "invalid_type", "retracted must be true or false")
    if check.errors or source_id is None:
        return None, check.errors, check.warnings
    if retracted is True:
        payload = {"source_id": source_id, "retracted": True}
        record = ValidRecord(source_id, payload, _canonical_hash(payload), retracted=True)
        return record, [], check.warnings
    return _validate_full(raw, source_id, rules, check)


#: The person fields checked by the plain text and code rules, in the order they are checked.
_NAMES = tuple(f for f in PERSON if f.rule is Rule.TEXT)
_CODES = tuple(f for f in PERSON if f.rule is Rule.CODE)


def _validate_full(
    raw: dict[str, Any], source_id: str, rules: RuleSet, check: _Checker
) -> tuple[ValidRecord | None, list[Issue], list[Issue]]:
    record = ValidRecord(source_id, {}, b"")
    for spec in _NAMES:
        setattr(record, spec.name, check.text(raw, spec.name, limit=spec.limit or MAX_NAME))
    for spec in _CODES:
        setattr(record, spec.name, check.code(raw, spec.name))
    _validate_sex(raw, record, check)
    _validate_birth_date(raw, record, rules, check)
    national_id = _validate_national_id(raw, record, rules, check)
    if record.given_name is None and record.family_name is None and national_id is None:
        check.error(
            "given_name",
            "name_or_national_id_required",
            "a record needs a name or a valid national ID",
        )
    _validate_enrolment(raw.get("enrolment"), record, rules, check)
    if check.errors:
        return None, check.errors, check.warnings
    record.payload = _sanitised_payload(record, national_id)
    record.payload_hash = _canonical_hash(record.payload)
    record.warnings = check.warnings
    return record, [], check.warnings


def _validate_sex(raw: dict[str, Any], record: ValidRecord, check: _Checker) -> None:
    sex = check.text(raw, "sex", limit=_limit("sex"))
    if sex is not None:
        if sex.upper() not in SEXES:
            check.error("sex", "invalid_code", f"sex must be one of {', '.join(sorted(SEXES))}")
        else:
            record.sex = sex.upper()


def _validate_birth_date(
    raw: dict[str, Any], record: ValidRecord, rules: RuleSet, check: _Checker
) -> None:
    had_errors = len(check.errors)
    born = check.day(raw, "birth_date")
    if born is None:
        if len(check.errors) == had_errors:
            check.error("birth_date", "required", "birth_date is required")
    elif born > rules.today:
        check.error("birth_date", "future_date", f"birth date {born} is in the future")
    elif born < EARLIEST_BIRTH:
        check.error("birth_date", "implausible_date", f"birth date {born} is before 1880")
    else:
        record.birth_date = born


def _validate_national_id(
    raw: dict[str, Any], record: ValidRecord, rules: RuleSet, check: _Checker
) -> str | None:
    value = raw.get("national_id")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        check.warnings.append(
            _issue(
                "national_id", "invalid_type", "national_id must be a string; not used for linking"
            )
        )
        return None
    outcome = rules.check_national_id(value.strip())
    if not outcome.ok:
        check.warnings.append(
            _issue("national_id", outcome.code, f"{outcome.message}; not used for linking")
        )
        return None
    if outcome.birth_date and record.birth_date and outcome.birth_date != record.birth_date:
        check.warnings.append(
            _issue(
                "national_id",
                "birth_date_mismatch",
                "the national ID's birth date differs from birth_date",
            )
        )
    if outcome.sex and record.sex in ("F", "M") and outcome.sex != record.sex:
        check.warnings.append(
            _issue(
                "sex",
                "national_id_sex_mismatch",
                f"sex {record.sex} differs from the national ID's sex digit ({outcome.sex})",
            )
        )
    record.national_id_digest = digest(value, rules.national_id_key)
    record.national_id_masked = mask(value)
    return value


def _validate_enrolment(raw: Any, record: ValidRecord, rules: RuleSet, check: _Checker) -> None:
    prefix = "enrolment."
    if raw is None:
        check.error("enrolment", "required", "enrolment is required")
        return
    if not isinstance(raw, dict):
        check.error("enrolment", "invalid_type", "enrolment must be an object")
        return
    for unknown in sorted(set(raw) - set(ENROLMENT_FIELDS)):
        check.warnings.append(
            _issue(prefix + str(unknown)[:100], "unknown_field", "field is not known; ignored")
        )
    _validate_codes(raw, record, rules, check)
    _validate_status(raw, record, rules, check)
    _validate_dates(raw, record, rules, check)
    _validate_amount(raw.get("amount"), record, check)
    _validate_amount_period(raw, record, check)
    record.legal_basis = check.text(raw, "legal_basis", prefix, limit=_limit("legal_basis"))
    if not check.errors:
        _validate_code_dates(record, rules, check)
        _validate_legal_basis(record, rules, check)


def _validate_codes(
    raw: dict[str, Any], record: ValidRecord, rules: RuleSet, check: _Checker
) -> None:
    prefix = "enrolment."
    codes = rules.code_lists
    benefit = check.text(raw, "benefit_code", prefix, limit=_limit("benefit_code"))
    if benefit is None:
        if not any(e["field"] == prefix + "benefit_code" for e in check.errors):
            check.error(prefix + "benefit_code", "required", "benefit_code is required")
    elif not codes.benefits.known(benefit):
        check.error(
            prefix + "benefit_code",
            "invalid_benefit_code",
            f"benefit code {benefit!r} is not in the L402 code list "
            "nor in the programme's own benefit lists",
        )
    elif benefit not in rules.programme_benefit_codes:
        check.error(
            prefix + "benefit_code",
            "benefit_not_in_programme",
            f"benefit code {benefit!r} is not granted by this programme",
        )
    record.benefit_code = benefit
    group = check.text(raw, "target_group", prefix, limit=_limit("target_group"))
    if group is None:
        return
    if not codes.target_groups.known(group):
        check.error(
            prefix + "target_group",
            "invalid_target_group",
            f"target group {group!r} is not in the L402 code list "
            "nor in the programme's own target-group lists",
        )
    elif group == UNSPECIFIED_TARGET_GROUP and not (benefit or "").startswith(
        UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX
    ):
        check.error(
            prefix + "target_group",
            "target_group_not_allowed",
            "target group 10 is allowed only with benefits 1.18.x (§§ 82 a, 82 b)",
        )
    record.target_group = group


def _validate_status(
    raw: dict[str, Any], record: ValidRecord, rules: RuleSet, check: _Checker
) -> None:
    """A registry status as is; a word of the programme's status map becomes its status."""
    prefix = "enrolment."
    status = check.text(raw, "status", prefix, limit=_limit("status"))
    if status is None or status in STATUSES:
        record.status = status
    elif rules.code_lists.statuses.known(status):
        record.status_as_sent = status  # mapped once the episode's dates are known
    else:
        check.error(
            prefix + "status",
            "invalid_code",
            f"status must be one of {', '.join(sorted(STATUSES))} "
            "or a word of the programme's status map",
        )


def _validate_code_dates(record: ValidRecord, rules: RuleSet, check: _Checker) -> None:
    """Each code against its list's dates: retired before the episode began, an error; in
    force only after the episode ended (history recoded into a newer list), a warning."""
    start, end = record.start_date, record.end_date
    codes = rules.code_lists
    for name, kind, value in (
        ("benefit_code", codes.benefits, record.benefit_code),
        ("target_group", codes.target_groups, record.target_group),
        ("status", codes.statuses, record.status_as_sent),
    ):
        if value is None:
            continue
        entry = kind.valid(value, start, end)
        if entry is None:
            entry = kind.recoded(value, start, end)
            if entry is None:
                check.error(
                    f"enrolment.{name}",
                    "code_not_valid_on_dates",
                    f"{name} {value!r} is valid {kind.periods(value)}, not on any day of "
                    f"the episode ({start} to {end or 'ongoing'})",
                )
                continue
            check.warnings.append(
                _issue(
                    f"enrolment.{name}",
                    "code_valid_after_episode",
                    f"{name} {value!r} is valid from {entry.valid_from}, after the episode "
                    f"ended ({end}): kept as history recoded into {entry.list_name}",
                )
            )
        if name == "status":
            record.status = entry.attributes["status"]


def _validate_legal_basis(record: ValidRecord, rules: RuleSet, check: _Checker) -> None:
    """The legal basis sent against the benefit's paragraph in its list: a warning if apart."""
    if record.legal_basis is None or record.benefit_code is None:
        return
    entry = rules.code_lists.benefits.valid(record.benefit_code, record.start_date, record.end_date)
    paragraph = entry.attributes.get("paragraph") if entry else None
    if entry and paragraph and not same_paragraph(record.legal_basis, paragraph):
        check.warnings.append(
            _issue(
                "enrolment.legal_basis",
                "legal_basis_mismatch",
                f"legal basis {record.legal_basis!r} is not benefit {record.benefit_code}'s "
                f"paragraph in {entry.list_name} ({paragraph})",
            )
        )


def _validate_dates(
    raw: dict[str, Any], record: ValidRecord, rules: RuleSet, check: _Checker
) -> None:
    prefix = "enrolment."
    had_errors = len(check.errors)
    start = check.day(raw, "start_date", prefix)
    if start is None and len(check.errors) == had_errors:
        check.error(prefix + "start_date", "required", "start_date is required")
    end = check.day(raw, "end_date", prefix)
    if start is not None and end is not None and end < start:
        check.error(
            prefix + "end_date", "end_before_start", f"end date {end} is before start date {start}"
        )
    if end is not None and end > rules.today:
        check.warnings.append(
            _issue(prefix + "end_date", "future_end_date", f"end date {end} is in the future")
        )
    record.start_date, record.end_date = start, end


def _validate_amount(value: Any, record: ValidRecord, check: _Checker) -> None:
    if value is None:
        return
    number_ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not number_ok or not math.isfinite(value) or not 0 <= value < 1e10:
        check.error(
            "enrolment.amount",
            "invalid_number",
            "amount must be a number between 0 and 10,000,000,000",
        )
        return
    record.amount = round(float(value), 2)


def _validate_amount_period(raw: dict[str, Any], record: ValidRecord, check: _Checker) -> None:
    prefix = "enrolment."
    period = check.text(raw, "amount_period", prefix, limit=_limit("amount_period"))
    if period is not None and period not in AMOUNT_PERIODS:
        check.error(
            prefix + "amount_period",
            "invalid_code",
            f"amount_period must be one of {', '.join(sorted(AMOUNT_PERIODS))}",
        )
        return
    if period is not None and raw.get("amount") is None:
        check.error(prefix + "amount_period", "amount_required", "amount_period needs an amount")
        return
    # an amount without its period is kept but not summed (spending counts it apart)
    record.amount_period = period


def _sanitised_payload(record: ValidRecord, national_id: str | None) -> dict[str, Any]:
    """The version as stored: the national ID replaced by its digest, never kept raw."""
    payload: dict[str, Any] = {
        "source_id": record.source_id,
        "national_id_digest": record.national_id_digest.hex()
        if national_id and record.national_id_digest
        else None,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "birth_date": record.birth_date.isoformat() if record.birth_date else None,
        "sex": record.sex,
        "region": record.region,
        "municipality": record.municipality,
        "mother_name": record.mother_name,
        "enrolment": {
            "benefit_code": record.benefit_code,
            "target_group": record.target_group,
            "status": record.status,
            "start_date": record.start_date.isoformat() if record.start_date else None,
            "end_date": record.end_date.isoformat() if record.end_date else None,
            "amount": record.amount,
        },
    }
    # fields added later appear only when sent, so a version's hash (and a re-sent batch's
    # "unchanged") does not move for records that do not use them
    for name in ("amount_period", "legal_basis", "status_as_sent"):
        if getattr(record, name) is not None:
            payload["enrolment"][name] = getattr(record, name)
    return payload
