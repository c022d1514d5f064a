"""One field specification: validation, the ingest stage, OpenAPI and the data dictionary agree.

Each test reads the specification (registry.records.fields) and checks one thing built or
written from it, so a field added, renamed or re-limited in one place and not the others
fails here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from api.app import create_app
from registry.core.settings import Settings
from registry.identity.national_id import SCHEMES
from registry.ingest import queries
from registry.ingest.validation import RuleSet, validate_record
from registry.records.dictionary import DICTIONARY_PATH, data_dictionary, example_record
from registry.records.fields import (
    CODE_LISTS,
    ENROLMENT,
    ENROLMENT_OBJECT,
    NATIONAL_ID_COLUMNS,
    PERSON,
    RECORD,
    RETRACTED,
    SOURCE_ID,
    STORED,
    Field,
    Rule,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = RuleSet(
    programme_benefit_codes=frozenset({"1.12.0.1", "1.12.0.2"}),
    check_national_id=SCHEMES["dk_cpr"],
    national_id_key=b"k" * 32,
    today=date(2026, 11, 1),
)
ALL = (*RECORD, *ENROLMENT)
#: What a field's JSON type is, by its rule.
JSON_TYPE = {
    Rule.TEXT: "string",
    Rule.CODE: "string",
    Rule.SEX: "string",
    Rule.DATE: "string",
    Rule.NATIONAL_ID: "string",
    Rule.AMOUNT: "number",
    Rule.FLAG: "boolean",
    Rule.OBJECT: "object",
}
#: A value each rule refuses (a national ID's is a warning: the record links without it).
BAD = {
    Rule.CODE: "not a code!",
    Rule.SEX: "Q",
    Rule.DATE: "2024-02-30",
    Rule.NATIONAL_ID: "0000000000",
    Rule.AMOUNT: -5,
    Rule.FLAG: "yes",
    Rule.OBJECT: "an enrolment",
}
#: A value outside each code list (the fixed lists and L402).
OFF_LIST = {
    "L402 benefits": "9.99.9",
    "L402 target groups": "9.9.9",
    "statuses": "exited",
    "sexes": "W",
    "amount periods": "week",
}


def wire_name(field: Field) -> str:
    return f"enrolment.{field.name}" if field in ENROLMENT else field.name


def with_value(field: Field, value: Any) -> dict[str, Any]:
    raw = example_record()
    if field in ENROLMENT:
        raw["enrolment"] = {**raw["enrolment"], field.name: value}
    else:
        raw[field.name] = value
    return raw


def issues(raw: dict[str, Any]) -> list[tuple[str, str]]:
    _, errors, warnings = validate_record(raw, RULES)
    return [(i["field"], i["code"]) for i in (*errors, *warnings)]


def test_every_field_is_described_typed_and_its_code_list_named() -> None:
    for field in ALL:
        assert field.description, field.name
        assert field.json_type == JSON_TYPE[field.rule], field.name
        assert (field.json_format == "date") == (field.rule is Rule.DATE), field.name
        assert field.code_list is None or field.code_list in CODE_LISTS, field.name
    assert {f.code_list for f in ALL if f.code_list} == set(CODE_LISTS)
    statuses = CODE_LISTS["statuses"]
    assert all(s in statuses for s in ("active", "ended", "pending", "suspended"))


def test_the_example_record_is_valid() -> None:
    valid, errors, warnings = validate_record(example_record(), RULES)
    assert valid is not None and errors == [] and warnings == []


@pytest.mark.parametrize("field", ALL, ids=[wire_name(f) for f in ALL])
def test_validation_checks_every_field_and_names_it(field: Field) -> None:
    if field.limit is not None:  # one character too many
        too_long = "x" * (field.limit + 1)
        assert (wire_name(field), "too_long") in issues(with_value(field, too_long))
    bad = BAD.get(field.rule)
    if bad is not None:
        assert wire_name(field) in {f for f, _ in issues(with_value(field, bad))}
    if field.code_list is not None:
        assert wire_name(field) in {
            f for f, _ in issues(with_value(field, OFF_LIST[field.code_list]))
        }
    if field.required:
        assert (wire_name(field), "required") in issues(with_value(field, None))
    if field.json_type == "string":  # a number where text belongs
        assert wire_name(field) in {f for f, _ in issues(with_value(field, 12))}
    if field.minimum is not None and field.below is not None:
        assert issues(with_value(field, field.minimum)) == []
        assert wire_name(field) in {f for f, _ in issues(with_value(field, field.below))}


def _columns(sql: str) -> dict[str, str]:
    """`name type` pairs of a column list (CREATE TABLE or a recordset's AS x(...))."""
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"(\w+) ((?:numeric\(\d+, \d+\))|\w+(?: precision)?)", sql)
    }


def test_the_ingest_stage_holds_every_field_with_its_type() -> None:
    stage = _columns(queries.CREATE_STAGE)
    fill = queries.FILL_STAGE.split("AS x(", 1)[1]
    arrived = _columns(fill)
    for field in (SOURCE_ID, RETRACTED, *STORED):
        assert stage[field.name] == field.sql_type, field.name
        assert arrived[field.name] == field.sql_type, field.name
    for column, sql_type in NATIONAL_ID_COLUMNS:  # the national ID, digested
        assert stage[column] == sql_type
        assert column in arrived
    staged = {f.name for f in STORED} | {c for c, _ in NATIONAL_ID_COLUMNS}
    for field in (*PERSON, *ENROLMENT):
        assert field.name in staged or field.rule is Rule.NATIONAL_ID, field.name
    assert {f.name for f in ENROLMENT} <= staged  # the enrolment object, field by field
    assert ENROLMENT_OBJECT.name not in stage


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    engine = create_engine("postgresql+psycopg2://nobody@localhost/none")  # never connected
    settings = Settings(env="test", jwt_secret="s" * 40, national_id_key="k" * 40)
    return create_app(engine, settings).openapi()


def _record_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    records = openapi["components"]["schemas"]["BatchIn"]["properties"]["records"]
    assert records["type"] == "array"
    return dict(records["items"])


def test_openapi_types_every_field_of_a_batch_record_as_specified(
    openapi: dict[str, Any],
) -> None:
    record = _record_schema(openapi)
    enrolment = record["properties"]["enrolment"]
    assert record["required"] == [f.name for f in RECORD if f.required]
    assert enrolment["required"] == [f.name for f in ENROLMENT if f.required]
    for field in ALL:
        owner = enrolment if field in ENROLMENT else record
        schema = owner["properties"][field.name]
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert kinds[0] == field.json_type, field.name
        assert ("null" in kinds) == (not field.required), field.name
        assert schema.get("format") == field.json_format, field.name
        assert schema.get("maxLength") == field.limit, field.name
        assert schema.get("minimum") == field.minimum, field.name
        assert schema.get("exclusiveMaximum") == field.below, field.name
        assert schema.get("x-code-list") == field.code_list, field.name
        assert field.description in schema["description"], field.name
        if field.check:
            assert schema["x-rule"] == field.check, field.name
    assert set(record["properties"]) == {f.name for f in RECORD}
    assert set(enrolment["properties"]) == {f.name for f in ENROLMENT}


def test_openapi_describes_records_without_letting_pydantic_reject_them(
    openapi: dict[str, Any],
) -> None:
    # the schema is a description: the route's model still takes any JSON value per record
    from api.routers.feeds import BatchIn

    body = BatchIn.model_validate({"batch_id": "b", "records": [1, "x", {"source_id": 5}]})
    assert body.records == [1, "x", {"source_id": 5}]


def test_the_committed_data_dictionary_is_the_generated_one() -> None:
    committed = (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8")
    assert committed == data_dictionary(), (
        f"{DICTIONARY_PATH} is out of date: run `registry docs data-dictionary`"
    )
    for field in ALL:
        assert f"`{wire_name(field)}`" in committed
