"""The one field specification of a feed record: each field once, with its type and rule.

Validation (registry.ingest.validation), the ingest stage's rows and columns
(registry.ingest.service, registry.ingest.queries), the import mapping's targets
(registry.imports.mapping) and the golden record's fields (registry.persons.golden) are
derived from it. A new field is added here, in the ORM models and in a migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum


class Rule(Enum):
    """How a field's value is checked (registry.ingest.validation applies the rule)."""

    #: Free text, whitespace collapsed, no control characters, at most `limit` characters.
    TEXT = "text"
    #: A code: letters and digits only, at most 16 characters.
    CODE = "code"
    #: One of SEXES, any case.
    SEX = "sex"
    #: A real date written YYYY-MM-DD.
    DATE = "date"
    #: A national ID: checked by the deployment's scheme, kept only as digest and mask.
    NATIONAL_ID = "national_id"
    #: A number between 0 and 10,000,000,000, kept to two decimals.
    AMOUNT = "amount"


@dataclass(frozen=True)
class Field:
    """One field of a feed record: its name, stored type, rule and where it goes."""

    name: str
    #: The column type it is staged and stored as (national_id: see NATIONAL_ID_COLUMNS).
    sql_type: str
    rule: Rule
    #: The most characters a text value may have (None: not text).
    limit: int | None = None
    #: A person attribute kept on the golden record (and matched on).
    golden: bool = False


MAX_NAME = 200
MAX_SOURCE_ID = 200
SEXES = frozenset(("F", "M", "X"))
STATUSES = frozenset(("active", "ended", "suspended", "pending"))
#: What an amount is per: a calendar month, a year, or one payment (a lump sum on start_date).
AMOUNT_PERIODS = frozenset(("month", "year", "payment"))
EARLIEST_BIRTH = date(1880, 1, 1)

#: The person fields of a record, at its top level, in the order they are stored.
PERSON = (
    Field("national_id", "text", Rule.NATIONAL_ID),
    Field("given_name", "text", Rule.TEXT, MAX_NAME, golden=True),
    Field("family_name", "text", Rule.TEXT, MAX_NAME, golden=True),
    Field("birth_date", "date", Rule.DATE, golden=True),
    Field("sex", "text", Rule.SEX, 8, golden=True),
    Field("region", "text", Rule.CODE, 16, golden=True),
    Field("municipality", "text", Rule.CODE, 16, golden=True),
    Field("mother_name", "text", Rule.TEXT, MAX_NAME, golden=True),
)

#: The enrolment fields of a record (under its "enrolment" object).
ENROLMENT = (
    Field("benefit_code", "text", Rule.TEXT, 32),
    Field("target_group", "text", Rule.TEXT, 32),
    Field("status", "text", Rule.TEXT, 16),
    Field("start_date", "date", Rule.DATE),
    Field("end_date", "date", Rule.DATE),
    Field("amount", "numeric(14, 2)", Rule.AMOUNT),
    Field("amount_period", "text", Rule.TEXT, 16),
    #: The paragraph the benefit is granted under, as the MIS records it (e.g. "§ 104").
    Field("legal_basis", "text", Rule.TEXT, 32),
)

#: What the national ID becomes when staged and stored: its keyed digest and its mask.
NATIONAL_ID_COLUMNS = (("nid_digest", "bytea"), ("nid_masked", "text"))

PERSON_FIELDS = tuple(f.name for f in PERSON)
ENROLMENT_FIELDS = tuple(f.name for f in ENROLMENT)
#: The person fields kept on the golden record, matched on and compared by stewards.
GOLDEN_FIELDS = tuple(f.name for f in PERSON if f.golden)
#: Every top-level key a record may carry.
KNOWN_FIELDS = frozenset(("source_id", "retracted", "enrolment", *PERSON_FIELDS))
#: The fields staged and stored as they were validated (the national ID is not: it is digested).
STORED = tuple(f for f in (*PERSON, *ENROLMENT) if f.rule is not Rule.NATIONAL_ID)


def by_name(name: str) -> Field:
    """The field of that name (person or enrolment)."""
    for field in (*PERSON, *ENROLMENT):
        if field.name == name:
            return field
    raise KeyError(name)
