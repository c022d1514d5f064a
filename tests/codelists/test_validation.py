"""Validation against the lists: dates of the episode, own codes, status maps, legal basis,
the CPR's sex digit (no database needed: the code book is built in memory)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import Any

from registry.codelists.book import CodeBook, Entry, default_book
from registry.codelists.paragraphs import same_paragraph
from registry.identity.national_id import SCHEMES
from registry.ingest.validation import RuleSet, validate_record
from tests.factories import record

SHIPPED = default_book()


def _book(extra: dict[tuple[str | None, str], list[Entry]]) -> CodeBook:
    merged: dict[tuple[str | None, str], dict[str, tuple[Entry, ...]]] = {
        key: dict(codes) for key, codes in SHIPPED.by_owner_kind.items()
    }
    for key, entries in extra.items():
        codes = merged.setdefault(key, {})
        for entry in entries:
            codes[entry.code] = (*codes.get(entry.code, ()), entry)
    return CodeBook(MappingProxyType({k: MappingProxyType(v) for k, v in merged.items()}))


def _entry(
    code: str, valid_from: date | None = None, valid_to: date | None = None, **attributes: str
) -> Entry:
    return Entry(code, "", attributes, valid_from, valid_to, "ngo1_list")


BOOK = _book(
    {
        ("NGO1", "benefit"): [
            _entry("X.OLD", date(2015, 1, 1), date(2019, 12, 31)),
            _entry("X.FOOD"),
        ],
        ("NGO1", "status_map"): [_entry("exited", status="ended")],
    }
)
RULES = RuleSet(
    programme_benefit_codes=frozenset({"1.1", "1.12.0.2", "X.OLD", "X.FOOD"}),
    check_national_id=SCHEMES["dk_cpr"],
    national_id_key=b"k" * 32,
    today=date(2026, 11, 1),
    codes=BOOK.for_programme("NGO1"),
)


def _check(
    rules: RuleSet = RULES, national_id: str | None = "0705404916", **changes: Any
) -> tuple[Any, list[tuple[str, str]], list[tuple[str, str]]]:
    sex = changes.pop("sex", "F")
    raw = record("1", national_id=national_id, sex=sex, enrolment=changes)
    found, errors, warnings = validate_record(raw, rules)
    return (
        found,
        [(e["field"], e["code"]) for e in errors],
        [(w["field"], w["code"]) for w in warnings],
    )


def test_a_code_retired_before_the_episode_is_refused_naming_field_and_rule() -> None:
    found, errors, _ = _check(benefit_code="X.OLD", start_date="2020-03-01")
    assert found is None
    assert errors == [("enrolment.benefit_code", "code_not_valid_on_dates")]
    _, errors, _ = _check(benefit_code="X.OLD", start_date="2019-03-01")
    assert errors == []
    # an episode that began before the code retired and runs on is within its dates
    _, errors, _ = _check(benefit_code="X.OLD", start_date="2018-03-01", end_date=None)
    assert errors == []


def test_history_recoded_into_a_newer_list_is_kept_with_a_warning() -> None:
    found, errors, warnings = _check(
        benefit_code="1.12.0.2",
        target_group="1.2.2",
        start_date="2016-01-01",
        end_date="2016-12-31",
    )
    assert errors == [] and found is not None
    assert warnings == [
        ("enrolment.benefit_code", "code_valid_after_episode"),
        ("enrolment.target_group", "code_valid_after_episode"),
    ]


def test_the_programmes_own_codes_and_status_words_are_used() -> None:
    found, errors, _ = _check(
        benefit_code="X.FOOD", target_group=None, status="exited", end_date="2024-01-01"
    )
    assert errors == [] and found is not None
    assert (found.status, found.status_as_sent) == ("ended", "exited")
    assert found.payload["enrolment"]["status"] == "ended"
    assert found.payload["enrolment"]["status_as_sent"] == "exited"
    # the shipped lists alone know neither
    plain = replace(RULES, codes=None)
    _, errors, _ = _check(plain, benefit_code="X.FOOD", target_group=None)
    assert errors == [("enrolment.benefit_code", "invalid_benefit_code")]
    _, errors, _ = _check(plain, status="exited")
    assert errors == [("enrolment.status", "invalid_code")]
    # another programme's view of the same book does not hold NGO1's lists
    other = replace(RULES, codes=BOOK.for_programme("NGO2"))
    _, errors, _ = _check(other, benefit_code="X.FOOD", target_group=None, status="exited")
    assert errors == [
        ("enrolment.benefit_code", "invalid_benefit_code"),
        ("enrolment.status", "invalid_code"),
    ]


def test_a_registry_status_is_stored_as_sent_and_the_hash_is_unchanged() -> None:
    plain = replace(RULES, codes=None)
    with_book, _, _ = _check()
    without, _, _ = _check(plain)
    assert with_book.status == "active" and with_book.status_as_sent is None
    assert "status_as_sent" not in with_book.payload["enrolment"]
    assert with_book.payload_hash == without.payload_hash


def test_legal_basis_against_the_benefits_paragraph_is_a_warning() -> None:
    found, errors, warnings = _check(benefit_code="1.1", target_group="1.2.2", legal_basis="§ 103")
    assert errors == [] and found is not None and found.legal_basis == "§ 103"
    assert warnings == [("enrolment.legal_basis", "legal_basis_mismatch")]
    _, _, quiet = _check(benefit_code="1.1", target_group="1.2.2", legal_basis="SEL §104, stk. 1")
    assert quiet == []
    _, _, no_paragraph = _check(benefit_code="X.FOOD", target_group=None, legal_basis="§ 1")
    assert no_paragraph == []


def test_paragraphs_compare_by_number_and_letter() -> None:
    assert same_paragraph("§104", "§ 104")
    assert same_paragraph("§ 82 a, stk. 2", "§ 82 a")
    assert not same_paragraph("§ 82 b", "§ 82 a")
    assert not same_paragraph("§ 1040", "§ 104")
    assert same_paragraph("Serviceloven 2014 § 85", "§ 85")
    assert not same_paragraph("ingen", "§ 85")


def test_the_cpr_sex_digit_against_sex_is_a_warning() -> None:
    # 0705404916: last digit even, a woman
    _, errors, warnings = _check(sex="M")
    assert errors == [] and warnings == [("sex", "national_id_sex_mismatch")]
    assert _check(sex="F")[2] == []
    assert _check(sex="X")[2] == []
    assert _check(national_id="0705404917", sex="M")[2] == []
    # only for a valid CPR under the dk_cpr scheme
    generic = replace(RULES, check_national_id=SCHEMES["generic"])
    assert _check(generic, sex="M")[2] == []
    assert _check(national_id="3202404916", sex="M")[2] == [("national_id", "invalid_date")]
