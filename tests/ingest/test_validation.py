"""Every validation rule names its field and code (no database needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from registry.identity.national_id import SCHEMES, check_dk_cpr
from registry.ingest.validation import RuleSet, validate_record
from tests.factories import record

RULES = RuleSet(
    programme_benefit_codes=frozenset({"1.12.0.1", "1.12.0.2", "1.18.1"}),
    check_national_id=SCHEMES["dk_cpr"],
    national_id_key=b"k" * 32,
    today=date(2026, 11, 1),
)


def errors_of(raw: Any) -> list[tuple[str, str]]:
    _, errors, _ = validate_record(raw, RULES)
    return [(e["field"], e["code"]) for e in errors]


def warnings_of(raw: Any) -> list[tuple[str, str]]:
    _, _, warnings = validate_record(raw, RULES)
    return [(w["field"], w["code"]) for w in warnings]


def test_a_good_record_passes() -> None:
    valid, errors, warnings = validate_record(record("1"), RULES)
    assert valid is not None and errors == [] and warnings == []
    assert valid.national_id_digest is not None and valid.national_id_masked == "********16"
    assert "0705404916" not in str(valid.payload)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            record("1", enrolment={"benefit_code": "9.9"}),
            ("enrolment.benefit_code", "invalid_benefit_code"),
        ),
        (
            record("1", enrolment={"benefit_code": "1.1"}),
            ("enrolment.benefit_code", "benefit_not_in_programme"),
        ),
        (record("1", enrolment={"benefit_code": None}), ("enrolment.benefit_code", "required")),
        (
            record("1", enrolment={"target_group": "7.7"}),
            ("enrolment.target_group", "invalid_target_group"),
        ),
        (
            record("1", enrolment={"target_group": "10"}),
            ("enrolment.target_group", "target_group_not_allowed"),
        ),
        (record("1", enrolment={"start_date": None}), ("enrolment.start_date", "required")),
        (
            record("1", enrolment={"start_date": "2023-02-30"}),
            ("enrolment.start_date", "invalid_date"),
        ),
        (
            record("1", enrolment={"start_date": "23/01/2023"}),
            ("enrolment.start_date", "invalid_date"),
        ),
        (
            record("1", enrolment={"end_date": "2021-01-01"}),
            ("enrolment.end_date", "end_before_start"),
        ),
        (record("1", enrolment={"amount": -5}), ("enrolment.amount", "invalid_number")),
        (record("1", enrolment={"amount": "12"}), ("enrolment.amount", "invalid_number")),
        (record("1", enrolment={"status": "maybe"}), ("enrolment.status", "invalid_code")),
        (record("1", birth_date=None), ("birth_date", "required")),
        (record("1", birth_date="1999-13-01"), ("birth_date", "invalid_date")),
        (record("1", birth_date="2030-01-01"), ("birth_date", "future_date")),
        (record("1", birth_date="1850-01-01"), ("birth_date", "implausible_date")),
        (record("1", sex="Q"), ("sex", "invalid_code")),
        (record("1", given_name="A" * 201), ("given_name", "too_long")),
        (record("1", family_name="Paul\x00sen"), ("family_name", "invalid_characters")),
        (record("1", given_name=42), ("given_name", "invalid_type")),
        (
            record("1", national_id=None, given_name=None, family_name=None),
            ("given_name", "name_or_national_id_required"),
        ),
        (record("1", enrolment=None), ("enrolment", "required")),
        ({"source_id": ""}, ("source_id", "required")),
        ({"national_id": "0705404916"}, ("source_id", "required")),
        ("not an object", ("record", "invalid_type")),
    ],
)
def test_each_rule_reports_its_field_and_code(raw: Any, expected: tuple[str, str]) -> None:
    assert expected in errors_of(raw)


def test_target_group_10_is_allowed_with_1_18() -> None:
    raw = record("1", enrolment={"benefit_code": "1.18.1", "target_group": "10"})
    assert errors_of(raw) == []


def test_future_end_date_is_a_warning_not_an_error() -> None:
    raw = record("1", enrolment={"end_date": "2027-03-31"})
    assert errors_of(raw) == []
    assert ("enrolment.end_date", "future_end_date") in warnings_of(raw)


@pytest.mark.parametrize(
    ("national_id", "code"),
    [("12345", "invalid_format"), ("3213404916", "invalid_date"), ("07054O4916", "invalid_format")],
)
def test_invalid_national_id_is_a_warning_and_not_digested(national_id: str, code: str) -> None:
    valid, errors, warnings = validate_record(record("1", national_id=national_id), RULES)
    assert errors == [] and valid is not None
    assert valid.national_id_digest is None
    assert ("national_id", code) in [(w["field"], w["code"]) for w in warnings]


def test_national_id_disagreeing_with_birth_date_is_flagged() -> None:
    assert ("national_id", "birth_date_mismatch") in warnings_of(
        record("1", birth_date="1941-05-07")
    )


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0705404916", date(1940, 5, 7)),
        ("0101054000", date(2005, 1, 1)),
        ("0101584000", date(1958, 1, 1)),
        ("0101585000", date(1858, 1, 1)),
        ("0101579000", date(1957, 1, 1)),
        ("0101369000", date(2036, 1, 1)),
        ("070540-4916", date(1940, 5, 7)),
        ("2902001234", None),
    ],
)
def test_cpr_century_rule(cpr: str, born: date | None) -> None:
    outcome = check_dk_cpr(cpr)
    assert outcome.birth_date == born
    assert outcome.ok is (born is not None)


def test_unknown_fields_are_warned_and_ignored() -> None:
    raw = record("1", shoe_size=44)
    assert errors_of(raw) == []
    assert ("shoe_size", "unknown_field") in warnings_of(raw)


def test_retraction_needs_only_the_source_id() -> None:
    valid, errors, _ = validate_record({"source_id": "1", "retracted": True}, RULES)
    assert errors == [] and valid is not None and valid.retracted


def _enrolment(**extra: Any) -> dict[str, Any]:
    raw = record("1")
    raw["enrolment"] = {**raw["enrolment"], **extra}
    return raw


def test_amount_period_takes_month_year_or_payment() -> None:
    for period in ("month", "year", "payment"):
        found, errors, _ = validate_record(_enrolment(amount=100, amount_period=period), RULES)
        assert errors == [] and found is not None and found.amount_period == period
        assert found.payload["enrolment"]["amount_period"] == period
    assert errors_of(_enrolment(amount=100, amount_period="week")) == [
        ("enrolment.amount_period", "invalid_code")
    ]
    assert errors_of(_enrolment(amount=None, amount_period="month")) == [
        ("enrolment.amount_period", "amount_required")
    ]


def test_fields_added_later_leave_an_old_record_hash_unchanged() -> None:
    plain, _, _ = validate_record(record("1"), RULES)
    with_basis, _, _ = validate_record(_enrolment(legal_basis="§ 104"), RULES)
    assert plain is not None and with_basis is not None
    assert "legal_basis" not in plain.payload["enrolment"]
    assert "amount_period" not in plain.payload["enrolment"]
    assert with_basis.payload["enrolment"]["legal_basis"] == "§ 104"
    assert plain.payload_hash != with_basis.payload_hash
