"""The one field specification of a feed record: each field once, with its type and rule.

Validation (registry.ingest.validation), the ingest stage's rows and columns
(registry.ingest.service, registry.ingest.queries), the import mapping's targets
(registry.imports.mapping), the golden record's fields (registry.persons.golden), the OpenAPI
schema of a batch's records and docs/data-dictionary.md (registry.records.dictionary) are
derived from it. A new field is added here, in the ORM models and in a migration, then
`registry docs data-dictionary` regenerates the dictionary (a test compares).
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
    #: true or false.
    FLAG = "flag"
    #: A JSON object holding fields of its own (the enrolment).
    OBJECT = "object"


@dataclass(frozen=True)
class Field:
    """One field of a feed record: its name, stored type, rule, and what a vendor must know.

    The second half (description to example) is the contract's wording: the OpenAPI schema of
    a batch's records and docs/data-dictionary.md are generated from it
    (registry.records.dictionary), and tests check validation and staging against it.
    """

    name: str
    #: The column type it is staged and stored as (national_id: see NATIONAL_ID_COLUMNS).
    sql_type: str
    rule: Rule
    #: The most characters a text value may have (None: not text).
    limit: int | None = None
    #: A person attribute kept on the golden record (and matched on).
    golden: bool = False
    #: What the field holds, in a sentence.
    description: str = ""
    #: Its JSON type on the wire: string, number, boolean or object.
    json_type: str = "string"
    #: Its JSON format (OpenAPI's `format`), e.g. date.
    json_format: str | None = None
    #: The named code list its value is checked against (a key of CODE_LISTS).
    code_list: str | None = None
    #: The rule in words: what validation checks beyond type, limit and code list.
    check: str = ""
    #: Whether a (non-retracted) record must carry it.
    required: bool = False
    #: The least a number may be, and the bound it must stay below.
    minimum: float | None = None
    below: float | None = None
    #: A valid value, as a vendor would send it.
    example: str | float | bool | None = None


MAX_NAME = 200
MAX_SOURCE_ID = 200
SEXES = frozenset(("F", "M", "X"))
STATUSES = frozenset(("active", "ended", "suspended", "pending"))
#: What an amount is per: a calendar month, a year, or one payment (a lump sum on start_date).
AMOUNT_PERIODS = frozenset(("month", "year", "payment"))
EARLIEST_BIRTH = date(1880, 1, 1)
#: The most an amount may be (exclusive).
AMOUNT_BELOW = 10_000_000_000.0


def _values(codes: frozenset[str]) -> str:
    return ", ".join(sorted(codes))


#: The code lists the fields are checked against, by name: what each holds, in words.
CODE_LISTS = {
    "L402 benefits": "Danmarks Statistik's L402 benefit (ydelse) codes, e.g. 1.12.0.2, and "
    "further lists an admin loads; a programme accepts only the codes it grants.",
    "L402 target groups": "Danmarks Statistik's L402 target-group (målgruppe) codes, e.g. "
    "1.2.2; target group 10 only with benefits 1.18.x (§§ 82 a, 82 b).",
    "statuses": f"The registry's statuses: {_values(STATUSES)}. Receiving on a date means an "
    "active episode covering it; suspended and pending are reported beside it. A programme's "
    "own status words are mapped to these by its status list.",
    "sexes": f"{_values(SEXES)} (any case; stored upper case).",
    "amount periods": f"{_values(AMOUNT_PERIODS)}: per calendar month, per year, or one "
    "payment on start_date.",
}

#: The record's key: the MIS's own id of the record (a re-send updates it).
SOURCE_ID = Field(
    "source_id",
    "text",
    Rule.TEXT,
    MAX_SOURCE_ID,
    description="The MIS's own key of the record; sending it again updates that record "
    "(a new version is kept).",
    check="Unique within a batch; whitespace collapsed, no control characters.",
    required=True,
    example="SEL85-0000001",
)

#: A retraction: the record is withdrawn (only source_id is needed with it).
RETRACTED = Field(
    "retracted",
    "boolean",
    Rule.FLAG,
    description="true withdraws the record: its current episode is superseded, its history "
    "kept; a retraction needs only source_id.",
    json_type="boolean",
    check="true or false; a record never received cannot be retracted.",
    example=False,
)

#: The person fields of a record, at its top level, in the order they are stored.
PERSON = (
    Field(
        "national_id",
        "text",
        Rule.NATIONAL_ID,
        description="The person's national ID (CPR); kept only as a keyed digest and a mask.",
        check="Checked by the deployment's national-ID scheme; an invalid ID is a warning "
        "and the record is linked without it.",
        example="0705404916",
    ),
    Field(
        "given_name",
        "text",
        Rule.TEXT,
        MAX_NAME,
        golden=True,
        description="Given name(s).",
        check="A record needs a name (given or family) or a valid national ID.",
        example="Britta",
    ),
    Field(
        "family_name",
        "text",
        Rule.TEXT,
        MAX_NAME,
        golden=True,
        description="Family name.",
        check="A record needs a name (given or family) or a valid national ID.",
        example="Paulsen",
    ),
    Field(
        "birth_date",
        "date",
        Rule.DATE,
        golden=True,
        description="Date of birth.",
        json_format="date",
        check="A real date written YYYY-MM-DD, not in the future, not before 1880-01-01.",
        required=True,
        example="1940-05-07",
    ),
    Field(
        "sex",
        "text",
        Rule.SEX,
        8,
        golden=True,
        description="Sex as the MIS records it.",
        code_list="sexes",
        example="F",
    ),
    Field(
        "region",
        "text",
        Rule.CODE,
        16,
        golden=True,
        description="The region of residence (Danmarks Statistik's region code).",
        check="Letters and digits only.",
        example="1084",
    ),
    Field(
        "municipality",
        "text",
        Rule.CODE,
        16,
        golden=True,
        description="The municipality of residence (Danmarks Statistik's municipality code).",
        check="Letters and digits only.",
        example="157",
    ),
    Field(
        "mother_name",
        "text",
        Rule.TEXT,
        MAX_NAME,
        golden=True,
        description="The mother's name, where the MIS records it (helps linking).",
        example="Karen Paulsen",
    ),
)

#: The enrolment fields of a record (under its "enrolment" object).
ENROLMENT = (
    Field(
        "benefit_code",
        "text",
        Rule.TEXT,
        32,
        description="The benefit the person is enrolled in.",
        code_list="L402 benefits",
        check="Must be a code the programme grants.",
        required=True,
        example="1.12.0.2",
    ),
    Field(
        "target_group",
        "text",
        Rule.TEXT,
        32,
        description="The target group the benefit is granted to.",
        code_list="L402 target groups",
        example="1.2.2",
    ),
    Field(
        "status",
        "text",
        Rule.TEXT,
        16,
        description="The episode's status.",
        code_list="statuses",
        example="active",
    ),
    Field(
        "start_date",
        "date",
        Rule.DATE,
        description="The first day of the episode.",
        json_format="date",
        check="A real date written YYYY-MM-DD.",
        required=True,
        example="2023-01-23",
    ),
    Field(
        "end_date",
        "date",
        Rule.DATE,
        description="The last day of the episode; null while it runs.",
        json_format="date",
        check="A real date written YYYY-MM-DD, not before start_date; a future end date is "
        "a warning.",
        example=None,
    ),
    Field(
        "amount",
        "numeric(14, 2)",
        Rule.AMOUNT,
        description="The amount granted, per amount_period.",
        json_type="number",
        check="A number, kept to two decimals.",
        minimum=0,
        below=AMOUNT_BELOW,
        example=2033.68,
    ),
    Field(
        "amount_period",
        "text",
        Rule.TEXT,
        16,
        description="What the amount is per; an amount without it is kept but not summed.",
        code_list="amount periods",
        check="Needs an amount.",
        example="month",
    ),
    #: The paragraph the benefit is granted under, as the MIS records it (e.g. "§ 104").
    Field(
        "legal_basis",
        "text",
        Rule.TEXT,
        32,
        description="The paragraph the benefit is granted under, as the MIS records it.",
        example="§ 85",
    ),
)

#: The record's enrolment: an object holding the ENROLMENT fields.
ENROLMENT_OBJECT = Field(
    "enrolment",
    "jsonb",
    Rule.OBJECT,
    description="The person's enrolment in the programme: one episode.",
    json_type="object",
    check="An object of the enrolment fields below.",
    required=True,
)

#: Every top-level field of a record, in the order the contract lists them.
RECORD = (SOURCE_ID, RETRACTED, *PERSON, ENROLMENT_OBJECT)

#: What the national ID becomes when staged and stored: its keyed digest and its mask.
NATIONAL_ID_COLUMNS = (("nid_digest", "bytea"), ("nid_masked", "text"))

PERSON_FIELDS = tuple(f.name for f in PERSON)
ENROLMENT_FIELDS = tuple(f.name for f in ENROLMENT)
#: The person fields kept on the golden record, matched on and compared by stewards.
GOLDEN_FIELDS = tuple(f.name for f in PERSON if f.golden)
#: Every top-level key a record may carry.
KNOWN_FIELDS = frozenset(f.name for f in RECORD)
#: The fields staged and stored as they were validated (the national ID is not: it is digested).
STORED = tuple(f for f in (*PERSON, *ENROLMENT) if f.rule is not Rule.NATIONAL_ID)


def by_name(name: str) -> Field:
    """The field of that name (top level, person or enrolment)."""
    for field in (*RECORD, *ENROLMENT):
        if field.name == name:
            return field
    raise KeyError(name)
