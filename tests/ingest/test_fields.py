"""The one field specification agrees with what is built from it and what spells it again."""

from __future__ import annotations

from dataclasses import fields

from registry.ingest import queries
from registry.ingest.validation import ValidRecord
from registry.persons import golden
from registry.persons.models import Person
from registry.records.fields import ENROLMENT, GOLDEN_FIELDS, PERSON, STORED, Rule
from registry.records.models import Enrolment, SourceRecord


def test_every_stored_field_is_a_validated_record_attribute() -> None:
    attributes = {f.name for f in fields(ValidRecord)}
    assert {f.name for f in STORED} <= attributes


def test_golden_fields_are_person_and_source_record_columns() -> None:
    assert golden.PERSON_FIELDS == GOLDEN_FIELDS
    assert set(GOLDEN_FIELDS) <= set(Person.__table__.columns.keys())
    assert set(GOLDEN_FIELDS) <= set(SourceRecord.__table__.columns.keys())


def test_enrolment_fields_are_enrolment_columns() -> None:
    assert {f.name for f in ENROLMENT} <= set(Enrolment.__table__.columns.keys())


def test_the_stage_holds_every_stored_field() -> None:
    for field in STORED:
        assert f"{field.name} {field.sql_type}" in queries.CREATE_STAGE
        assert field.name in queries.FILL_STAGE


def test_text_limits_match_the_columns_that_bound_them() -> None:
    for field in PERSON:
        column = SourceRecord.__table__.columns.get(field.name)
        length = getattr(getattr(column, "type", None), "length", None)
        if length is not None and field.rule is not Rule.SEX:
            assert field.limit == length, field.name
