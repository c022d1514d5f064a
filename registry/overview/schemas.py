"""The overview's answers as frozen dataclasses, and their JSON form (one serializer).

Dates and times are ISO strings, as on the wire. Counts are `None` where disclosure control
hides them. A field whose wire name is a Python keyword carries a pydantic alias (`from`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

#: A count that disclosure control may hide (null on the wire).
Count = int | None


@dataclass(frozen=True)
class Counts:
    """Distinct receiving persons and their enrolments; suspended and pending persons beside."""

    persons: Count
    enrolments: Count
    #: persons with a suspended episode on the day and no receiving one (in the cell)
    suspended: Count = None
    #: persons with a pending episode on the day and neither a receiving nor a suspended one
    pending: Count = None


@dataclass(frozen=True)
class CoverageRow:
    """One cell of a coverage table; only the dimensions asked for in `by` are sent."""

    programme: str | None = None
    region: str | None = None
    sex: str | None = None
    age_band: str | None = None
    benefit_code: str | None = None
    persons: Count = None
    enrolments: Count = None
    target_group: str | None = None
    municipality: str | None = None
    #: beside the receiving persons, as in `Counts`
    suspended: Count = None
    pending: Count = None


@dataclass(frozen=True)
class Coverage:
    """Distinct persons receiving on a date and their enrolments, by the requested dimensions
    (suspended and pending persons beside them)."""

    as_of: str
    by: list[str]
    rows: list[CoverageRow]
    total: Counts
    suppressed: bool


@dataclass(frozen=True)
class Overlaps:
    """Persons in both of each pair of programmes (the diagonal: in the programme), by count."""

    as_of: str
    programmes: list[str]
    matrix: dict[str, dict[str, Count]]
    by_count: dict[str, Count]
    suppressed: bool


@dataclass(frozen=True)
class Enrolment:
    """One active enrolment of a listed person."""

    programme: str
    source_id: str
    benefit_code: str | None
    start_date: str
    end_date: str | None
    region: str | None


def enrolment(grant: dict[str, Any]) -> Enrolment:
    """An enrolment from its JSON object, as the queries aggregate it."""
    return Enrolment(
        programme=grant["programme"],
        source_id=grant["source_id"],
        benefit_code=grant["benefit_code"],
        start_date=grant["start_date"],
        end_date=grant["end_date"],
        region=grant["region"],
    )


@dataclass(frozen=True)
class PersonInProgrammes:
    """A person active in several programmes, with the enrolments behind it."""

    person_id: str
    programmes: list[str]
    enrolments: list[Enrolment]


@dataclass(frozen=True)
class PersonsInProgrammes:
    """One page of persons active in at least `min_programmes` programmes."""

    as_of: str
    min_programmes: int
    persons: list[PersonInProgrammes]
    next_after: str | None


@dataclass(frozen=True)
class TimeseriesRow:
    """Distinct receiving persons of a programme in one period (suspended, pending beside)."""

    period_start: str
    period_end: str
    programme: str
    persons: Count
    suspended: Count = None
    pending: Count = None


@dataclass(frozen=True)
class Timeseries:
    """Distinct active persons per programme per week, month or quarter."""

    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    interval: str
    basis: str
    programme: str | None
    recorded_at: str | None
    rows: list[TimeseriesRow]
    suppressed: bool


@dataclass(frozen=True)
class DoubleEnrolmentCount:
    """Persons with two or more active episodes in one programme (and how many share a code)."""

    programme: str
    persons: Count
    same_benefit_code: Count


@dataclass(frozen=True)
class ExclusivePairCount:
    """Persons active in both programmes of a pair marked exclusive."""

    programmes: list[str]
    persons: Count


@dataclass(frozen=True)
class DuplicatePerson:
    """A person behind a finding, with the enrolments concerned."""

    person_id: str
    programmes: list[str]
    enrolments: list[Enrolment] | None


@dataclass(frozen=True)
class DoubleEnrolments:
    """Double enrolments: counts, and the persons (null when the caller may not list them)."""

    counts: list[DoubleEnrolmentCount]
    persons: list[DuplicatePerson] | None


@dataclass(frozen=True)
class ExclusiveFindings:
    """Persons in exclusive pairs: counts, and the persons (null when not listed)."""

    counts: list[ExclusivePairCount]
    persons: list[DuplicatePerson] | None


@dataclass(frozen=True)
class Duplicates:
    """Persons enrolled twice in one programme, and persons in both of an exclusive pair."""

    as_of: str
    programme: str | None
    recorded_at: str | None
    double_enrolments: DoubleEnrolments
    exclusive: ExclusiveFindings
    suppressed: bool


@dataclass(frozen=True)
class GrantView:
    """One grant on one side of a reconciliation, and where it came from."""

    benefit_code: str | None
    start_date: str | None
    end_date: str | None
    origin: str


@dataclass(frozen=True)
class OneSidedPerson:
    """A person found on one side only (the other side's list is empty)."""

    person_id: str
    left: list[GrantView]
    right: list[GrantView]


@dataclass(frozen=True)
class DifferingPerson:
    """A person on both sides whose grants differ, and in what."""

    person_id: str
    left: list[GrantView]
    right: list[GrantView]
    differences: list[str]


@dataclass(frozen=True)
class ReconciliationSummary:
    """Persons per side, on both, on one side only, differing; reference rows unresolved."""

    left: Count
    right: Count
    both: Count
    left_only: Count
    right_only: Count
    differing: Count
    unresolved: Count


@dataclass(frozen=True)
class BenefitCodeCounts:
    """The comparison's counts for one benefit code."""

    benefit_code: str | None
    left: Count
    right: Count
    both: Count
    left_only: Count
    right_only: Count


@dataclass(frozen=True)
class Reconciliation:
    """Two sides compared: counts, and (when the caller may list) the persons behind them."""

    as_of: str
    left: str
    right: str
    benefit_code: str | None
    recorded_at: str | None
    summary: ReconciliationSummary
    by_benefit_code: list[BenefitCodeCounts]
    left_only: list[OneSidedPerson] | None
    right_only: list[OneSidedPerson] | None
    differing: list[DifferingPerson] | None
    unresolved: list[GrantView] | None
    suppressed: bool


@dataclass(frozen=True)
class QuarterRecipients:
    """Distinct recipients per benefit code in one quarter."""

    quarter: str
    start: str
    end: str
    recipients: dict[str, Count]
    suppressed: bool


@dataclass(frozen=True)
class FeedErrorItem:
    """One validation error or warning a batch of the feed raised."""

    batch_id: str
    received_at: str
    source_id: str | None
    severity: str
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class ErrorList:
    """The newest errors of one category, and how many there are in all (errors, warnings)."""

    count: int
    items: list[FeedErrorItem]
    #: of `count`, those that rejected their record (severity error) and the warnings
    errors: int = 0
    warnings: int = 0


@dataclass(frozen=True)
class StartDateSpike:
    """A start date shared by unusually many episodes."""

    start_date: str
    enrolments: int
    typical_day: float
    share: float


@dataclass(frozen=True)
class BatchActiveCount:
    """The programme's active persons and enrolments after one batch."""

    batch_id: str
    received_at: str
    as_of: str
    active_persons: int
    active_enrolments: int
    source: str


@dataclass(frozen=True)
class ActiveCountJump:
    """Consecutive batches whose active persons jump or drop."""

    batch_id: str
    previous_batch_id: str
    before: int
    after: int
    change: int
    ratio: float
    kind: str
    #: within the programme's first load (its first batch and those following it back to
    #: back): growth from nothing, not a data break
    first_load: bool = False


@dataclass(frozen=True)
class BreakRules:
    """The rules the data breaks were detected by, in words."""

    spike: str
    jump: str


@dataclass(frozen=True)
class DeclaredBreak:
    """A break the programme declared (a system switch), and the spikes and jumps it explains."""

    kind: str
    date: str
    declared_at: str
    rekeyed: int
    start_date_spikes: list[StartDateSpike]
    active_count_jumps: list[ActiveCountJump]


@dataclass(frozen=True)
class DataBreaks:
    """Start-date spikes, active-count jumps, and the counts they were found in."""

    start_date_spikes: list[StartDateSpike]
    active_count_jumps: list[ActiveCountJump]
    batch_active_counts: list[BatchActiveCount]
    rules: BreakRules
    #: declared switches; a spike or jump one explains is listed there, not above
    declared_breaks: list[DeclaredBreak] = field(default_factory=list)


@dataclass(frozen=True)
class QualityReport:
    """A feed's data-quality report: recipients, error lists per category, data breaks,
    findings."""

    programme: str
    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    recorded_at: str | None
    quarters: list[QuarterRecipients]
    errors: dict[str, ErrorList]
    data_breaks: DataBreaks
    suppressed: bool
    #: status/date contradictions and the adult-area checks (`registry.overview.findings`)
    findings: list[QualityFinding] = field(default_factory=list)


#: Every overview answer.
Answer = (
    Coverage | Overlaps | PersonsInProgrammes | Timeseries | Duplicates | Reconciliation
) | QualityReport


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    """One pydantic adapter per answer type (building one costs more than a dump)."""
    if kind.__name__ not in _ADAPTERS:
        _ADAPTERS[kind.__name__] = TypeAdapter(kind)
    return _ADAPTERS[kind.__name__]


def to_json(answer: Answer) -> dict[str, Any]:
    """The answer's JSON form (wire names); coverage rows carry only the dimensions asked for."""
    data: dict[str, Any] = _adapter(type(answer)).dump_python(answer, mode="json", by_alias=True)
    if isinstance(answer, Coverage):
        data["rows"] = [
            {d: row[d] for d in answer.by}
            | {k: row[k] for k in ("persons", "enrolments", "suspended", "pending")}
            for row in data["rows"]
        ]
    return data


#: An amount (DKK, rounded to øre) that disclosure control may hide (null on the wire).
Amount = float | None


@dataclass(frozen=True)
class SpendingRow:
    """Amounts paid in one period to one cell; only the dimensions asked for in `by` are sent."""

    period_start: str
    period_end: str
    programme: str | None = None
    benefit_code: str | None = None
    region: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    amount: Amount = None


@dataclass(frozen=True)
class PeriodTotal:
    """The sum of one period's cells."""

    period_start: str
    period_end: str
    amount: Amount


@dataclass(frozen=True)
class Spending:
    """Amounts paid to receiving episodes per whole period, by the requested dimensions."""

    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    interval: str
    by: list[str]
    recorded_at: str | None
    rows: list[SpendingRow]
    totals: list[PeriodTotal]
    left_out: Count
    suppressed: bool


@dataclass(frozen=True)
class FlowRow:
    """Spells started (inflow) and ended (outflow) in one period in one cell."""

    period_start: str
    period_end: str
    programme: str | None = None
    benefit_code: str | None = None
    region: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    age_band: str | None = None
    inflow: Count = None
    outflow: Count = None


@dataclass(frozen=True)
class FlowTotal:
    """Inflow and outflow of one period over every cell."""

    period_start: str
    period_end: str
    inflow: Count
    outflow: Count


@dataclass(frozen=True)
class Flows:
    """Inflow and outflow per whole period, by the requested dimensions."""

    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    interval: str
    by: list[str]
    recorded_at: str | None
    rows: list[FlowRow]
    totals: list[FlowTotal]
    suppressed: bool


@dataclass(frozen=True)
class DurationBand:
    """Spells of a cell whose duration (ended) or time so far (open) falls in one band."""

    band: str
    ended: Count
    open: Count


@dataclass(frozen=True)
class DurationRow:
    """The spells of one cell started in the range: counts, Kaplan-Meier median, bands."""

    programme: str | None = None
    benefit_code: str | None = None
    region: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    age_band: str | None = None
    spells: Count = None
    ended: Count = None
    open: Count = None
    median_days: int | None = None
    bands: list[DurationBand] | None = None


@dataclass(frozen=True)
class Durations:
    """Durations of the spells started between two dates, observed on the last of them."""

    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    by: list[str]
    recorded_at: str | None
    bands: list[str]
    rows: list[DurationRow]
    suppressed: bool


@dataclass(frozen=True)
class FullYearRow:
    """Full-year persons (receiving days / days in the year, summed) of one cell in a year."""

    year: int
    programme: str | None = None
    benefit_code: str | None = None
    region: str | None = None
    municipality: str | None = None
    target_group: str | None = None
    full_year_persons: Amount = None
    persons: Count = None


@dataclass(frozen=True)
class FullYearTotal:
    """Full-year persons and distinct persons of one year over every cell."""

    year: int
    full_year_persons: Amount
    persons: Count


@dataclass(frozen=True)
class FullYear:
    """Full-year persons per calendar year, by the requested dimensions."""

    start: Annotated[str, Field(alias="from")]
    end: Annotated[str, Field(alias="to")]
    by: list[str]
    recorded_at: str | None
    rows: list[FullYearRow]
    totals: list[FullYearTotal]
    suppressed: bool


#: The money and movement answers.
MoneyAnswer = Spending | Flows | Durations | FullYear


@dataclass(frozen=True)
class QualityFinding:
    """One quality rule over a programme's current episodes: how many break it, and whose.

    `source_ids` is a sample (the first by source id); null when the report is suppressed.
    """

    code: str
    programme: str
    severity: str
    rule: str
    count: Count
    source_ids: list[str] | None
