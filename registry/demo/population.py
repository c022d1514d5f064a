"""Deterministic synthetic population and programme feeds, with ground truth.

Pure (standard library only, no database): used by the demo, the ingest benchmark and
the linkage-quality benchmark. Everything is drawn from `random.Random` streams seeded
from the caller's seed, so the same arguments always give the same output.

    persons = generate_persons(10_000, seed=1)
    feeds = generate_feeds(persons, demo_programmes(), Noise.demo(), seed=1)
    for code, records in feeds.records.items():
        for batch in batches(records, 1000):
            ...  # POST /api/v1/programmes/{code}/batches
    feeds.truth[("SEL85", "SEL85-0000001")]  # -> index into persons

Records are in the feed format of API.md ("Feeds"): JSON-ready dicts with ISO dates.
The true person of each record is kept out of band in `Feeds.truth`.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from registry.demo import names as N

AS_OF = date(2026, 11, 1)
"""Default reference date: ages, enrolment statuses and end dates are relative to it."""

# L402 code lists (Danmarks Statistik B3-L402 v4; /work/shared/codelists), kept here so
# that the generator stays free of the rest of the registry.
L402_BENEFIT_CODES: tuple[str, ...] = (
    "1.1", "1.3", "1.4", "1.8.1", "1.8.2", "1.12.0.1", "1.12.0.2", "1.13.2", "1.13.3",
    "1.13.4", "1.17", "1.18.1", "1.18.2",
)  # fmt: skip
L402_TARGET_GROUPS: tuple[str, ...] = (
    "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.2.1", "1.2.2", "2", "10",
)  # fmt: skip
UNSPECIFIED_TARGET_GROUP = "10"
"""Target group 10 ("uoplyst") is allowed only with benefits 1.18.x (§§ 82 a/b)."""
UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX = "1.18."

INVALID_KINDS: tuple[str, ...] = (
    "invalid_benefit_code",
    "invalid_target_group",
    "target_group_10_without_1_18",
    "missing_start_date",
    "end_before_start",
    "impossible_date",
    "future_end_date",
)
"""The kinds of invalid record `generate_feeds(..., invalid_share=...)` produces."""


# --------------------------------------------------------------------------- programmes


@dataclass(frozen=True)
class ProgrammeSpec:
    """A programme whose MIS sends a feed.

    `share` is the share of the population enrolled (every generated person is in at least
    one programme; the marginals are met exactly in expectation when the shares sum to at
    least 1). `id_coverage` is the share of its records that carry a national ID.
    `often_with` names programmes this one is often combined with (more overlap).
    """

    code: str
    name: str
    agency: str
    benefit_codes: tuple[str, ...]
    share: float
    id_coverage: float
    often_with: tuple[str, ...] = ()

    def api_payload(self) -> dict[str, Any]:
        """The body of `POST /api/v1/programmes`."""
        return {
            "code": self.code,
            "name": self.name,
            "agency": self.agency,
            "benefit_codes": list(self.benefit_codes),
        }


def demo_programmes() -> list[ProgrammeSpec]:
    """Four programmes under the Social Services Act, built from the L402 benefit codes."""
    return [
        ProgrammeSpec(
            code="SEL85",
            name="Socialpædagogisk støtte efter § 85",
            agency="Socialforvaltningen, Voksenhandicap",
            benefit_codes=("1.12.0.1", "1.12.0.2"),
            share=0.50,
            id_coverage=1.0,
            often_with=("SEL107",),
        ),
        ProgrammeSpec(
            code="SEL104",
            name="Aktivitets- og samværstilbud efter § 104",
            agency="Socialforvaltningen, Dag- og aktivitetstilbud",
            benefit_codes=("1.1",),
            share=0.33,
            id_coverage=0.8,
            often_with=("SEL107",),
        ),
        ProgrammeSpec(
            code="SEL107",
            name="Botilbud efter §§ 107 og 108",
            agency="Socialforvaltningen, Botilbud",
            benefit_codes=("1.8.1", "1.8.2"),
            share=0.25,
            id_coverage=0.95,
            often_with=("SEL85", "SEL104"),
        ),
        ProgrammeSpec(
            code="SEL82",
            name="Tidlig forebyggende indsats efter § 82 a og § 82 b",
            agency="Socialforvaltningen, Tidlig indsats",
            benefit_codes=("1.18.1", "1.18.2"),
            share=0.27,
            id_coverage=0.6,
        ),
    ]


# --------------------------------------------------------------------------- persons


@dataclass(frozen=True)
class PersonTruth:
    """One true person. `index` is its position in the list and its ground-truth key."""

    index: int
    national_id: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    region: str
    municipality: str
    mother_name: str
    target_group: str
    twin_of: int | None = None
    """The index of this person's twin (same family name, birth date and mother)."""
    namesake_of: int | None = None
    """The index of this person's parent of the same given and family name."""

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class _Table:
    """A weighted table drawn from with one uniform number and a bisection."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weighted: Sequence[tuple[str, float]]) -> None:
        self.items = tuple(item for item, _ in weighted)
        cum: list[float] = []
        total = 0.0
        for _, weight in weighted:
            total += weight
            cum.append(total)
        self.cum = tuple(cum)
        self.total = total

    def draw(self, rng: random.Random) -> str:
        return self.items[min(bisect(self.cum, rng.random() * self.total), len(self.items) - 1)]


_GIVEN = {"F": _Table(N.FEMALE_GIVEN), "M": _Table(N.MALE_GIVEN)}
_FAMILY = _Table(N.FAMILY)
_TURKISH_GIVEN = {"F": _Table(N.TURKISH_FEMALE), "M": _Table(N.TURKISH_MALE)}
_TURKISH_FAMILY = _Table(N.TURKISH_FAMILY)
_POLISH_GIVEN = {"F": _Table(N.POLISH_FEMALE), "M": _Table(N.POLISH_MALE)}
_POLISH_FAMILY = _Table(N.POLISH_FAMILY)
_REGION = _Table(N.REGION_WEIGHTS)
_MUNICIPALITY = {region: _Table(table) for region, table in N.REGIONS.items()}
_TARGET_GROUP = _Table(
    (
        ("1.2.2", 0.35),
        ("1.2.1", 0.30),
        ("2", 0.12),
        ("1.1.1", 0.08),
        ("1.1.6", 0.045),
        ("1.1.2", 0.03),
        ("1.1.3", 0.03),
        ("1.1.4", 0.02),
        ("1.1.5", 0.005),
    )
)


def _age_weight(age: int) -> float:
    if age < 18:
        return 0.1
    if age < 65:
        return 1.0
    if age < 80:
        return 0.7
    return max(0.7 * (101 - age) / 21, 0.02)


_AGE = _Table(tuple((str(age), _age_weight(age)) for age in range(16, 101)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def cpr_seventh_digits(year: int) -> tuple[int, ...]:
    """The 7th CPR digits that encode a birth in `year` (by the century rule)."""
    yy = year % 100
    if 1858 <= year <= 1899:
        return (5, 6, 7, 8)
    if 1900 <= year <= 1999:
        return (0, 1, 2, 3, 4, 9) if yy >= 37 else (0, 1, 2, 3)
    if 2000 <= year <= 2036:
        return (4, 5, 6, 7, 8, 9)
    if 2037 <= year <= 2057:
        return (5, 6, 7, 8)
    raise ValueError(f"no CPR number encodes the birth year {year}")


def cpr_birth_date(cpr: str) -> date | None:
    """The birth date a CPR number encodes, or None if it is not a valid CPR number."""
    if len(cpr) != 10 or not cpr.isdigit():
        return None
    day, month, yy, seventh = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def _cpr(rng: random.Random, born: date, sex: str, used: set[str]) -> str:
    sevenths = cpr_seventh_digits(born.year)
    if born.year < 2000 and len(sevenths) > 4 and rng.random() < 0.9:
        sevenths = sevenths[:4]  # 4 and 9 are rare for the 1900s
    prefix = born.strftime("%d%m%y")
    parity = 1 if sex == "M" else 0
    while True:
        serial = rng.choice(sevenths) * 100 + rng.randrange(100)
        cpr = f"{prefix}{serial:03d}{2 * rng.randrange(5) + parity}"
        if cpr not in used:
            used.add(cpr)
            return cpr


def _given(rng: random.Random, sex: str, heritage: str) -> str:
    if heritage == "tr":
        return _TURKISH_GIVEN[sex].draw(rng)
    if heritage == "pl":
        return _POLISH_GIVEN[sex].draw(rng)
    u = rng.random()
    if u < 0.04:
        return rng.choice(N.FEMALE_HYPHENATED if sex == "F" else N.MALE_HYPHENATED)
    first = _GIVEN[sex].draw(rng)
    if u < 0.16:
        second = rng.choice(N.FEMALE_SECOND if sex == "F" else N.MALE_SECOND)
        if second != first:
            return f"{first} {second}"
    return first


def _family(rng: random.Random, sex: str, heritage: str) -> str:
    if heritage == "tr":
        return _TURKISH_FAMILY.draw(rng)
    if heritage == "pl":
        family = _POLISH_FAMILY.draw(rng)
        return N.feminine_polish(family) if sex == "F" else family
    u = rng.random()
    family = _FAMILY.draw(rng)
    if u < 0.04:
        other = _FAMILY.draw(rng)
        if other != family:
            return f"{other}-{family}"
    elif u < 0.07:
        return f"{rng.choice(N.MIDDLE)} {family}"
    return family


def _heritage(rng: random.Random) -> str:
    u = rng.random()
    return "tr" if u < 0.025 else "pl" if u < 0.05 else "dk"


def _mother_name(rng: random.Random, family: str, heritage: str) -> str:
    given = _given(rng, "F", heritage)
    if rng.random() < 0.6:
        mother_family = family
        if heritage == "pl" and family.endswith(("ski", "cki")):
            mother_family = N.feminine_polish(family)
    else:
        mother_family = _family(rng, "F", heritage)
    return f"{given} {mother_family}"


def _birth_date(rng: random.Random, age: int, as_of: date) -> date:
    hi = _years_before(as_of, age).toordinal()
    lo = _years_before(as_of, age + 1).toordinal() + 1
    return date.fromordinal(rng.randint(lo, hi))


def _address(rng: random.Random) -> tuple[str, str]:
    region = _REGION.draw(rng)
    return region, _MUNICIPALITY[region].draw(rng)


def generate_persons(
    n: int,
    seed: int = 0,
    *,
    as_of: date = AS_OF,
    twin_share: float = 0.02,
    namesake_share: float = 0.01,
) -> list[PersonTruth]:
    """`n` distinct true persons, deterministic for a given seed.

    About `twin_share` of the persons are twins (pairs at adjacent indices: same family
    name, birth date and mother, mostly the same address, different given names) and about
    `namesake_share` are parent and child of the same given and family name (born 20-40
    years apart). Everyone has a unique valid CPR number.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(f"registry.demo.persons/{seed}")
    used: set[str] = set()
    persons: list[PersonTruth] = []
    p_twins = twin_share / 2
    p_namesakes = namesake_share / 2
    while len(persons) < n:
        i = len(persons)
        pair_fits = i + 2 <= n
        u = rng.random()
        sex = "F" if rng.random() < 0.5 else "M"
        heritage = _heritage(rng)
        given = _given(rng, sex, heritage)
        family = _family(rng, sex, heritage)
        region, municipality = _address(rng)
        target_group = _TARGET_GROUP.draw(rng)
        if pair_fits and u < p_namesakes:
            parent_age = rng.randint(42, 92)
            child_age = parent_age - rng.randint(20, 40)
            if child_age < 18:
                child_age = 18
            parent_born = _birth_date(rng, parent_age, as_of)
            parent = PersonTruth(
                index=i,
                national_id=_cpr(rng, parent_born, sex, used),
                given_name=given,
                family_name=family,
                birth_date=parent_born,
                sex=sex,
                region=region,
                municipality=municipality,
                mother_name=_mother_name(rng, family, heritage),
                target_group=target_group,
            )
            child_born = _birth_date(rng, child_age, as_of)
            if sex == "F":
                child_mother = parent.full_name
            else:
                child_mother = f"{_given(rng, 'F', heritage)} {family}"
            child_region, child_municipality = (
                (region, municipality) if rng.random() < 0.5 else _address(rng)
            )
            child = replace(
                parent,
                index=i + 1,
                national_id=_cpr(rng, child_born, sex, used),
                birth_date=child_born,
                region=child_region,
                municipality=child_municipality,
                mother_name=child_mother,
                target_group=_TARGET_GROUP.draw(rng),
                namesake_of=i,
            )
            persons += [parent, child]
            continue
        born = _birth_date(rng, int(_AGE.draw(rng)), as_of)
        first = PersonTruth(
            index=i,
            national_id=_cpr(rng, born, sex, used),
            given_name=given,
            family_name=family,
            birth_date=born,
            sex=sex,
            region=region,
            municipality=municipality,
            mother_name=_mother_name(rng, family, heritage),
            target_group=target_group,
        )
        if not (pair_fits and u < p_namesakes + p_twins):
            persons.append(first)
            continue
        # Polish family names differ by sex (Kowalski/Kowalska): keep such twins same-sex.
        same_sex = heritage == "pl" or rng.random() < 0.6
        twin_sex = sex if same_sex else ("M" if sex == "F" else "F")
        twin_given = given
        while twin_given == given:
            twin_given = _given(rng, twin_sex, heritage)
        twin_region, twin_municipality = (
            (region, municipality) if rng.random() < 0.8 else _address(rng)
        )
        twin = replace(
            first,
            index=i + 1,
            national_id=_cpr(rng, born, twin_sex, used),
            given_name=twin_given,
            sex=twin_sex,
            region=twin_region,
            municipality=twin_municipality,
            target_group=target_group if rng.random() < 0.5 else _TARGET_GROUP.draw(rng),
            twin_of=i,
        )
        persons += [replace(first, twin_of=i + 1), twin]
    return persons


# --------------------------------------------------------------------------- noise


@dataclass(frozen=True)
class Noise:
    """How far the feeds' records stray from the true persons. Rates are probabilities."""

    id_coverage: bool = False
    """Drop national IDs so that each programme carries them at its `id_coverage`."""
    id_typo: float = 0.0
    """Of the IDs sent, the share with one digit changed (often making the date invalid)."""
    name_typo: float = 0.0
    """Per name field (given, family, mother): one insert, delete, substitute or transpose."""
    transliteration: float = 0.0
    """Per record: æ, ø, å (and Turkish/Polish letters) written in ASCII (ø -> oe or o)."""
    name_swap: float = 0.0
    """Per record: given and family name swapped."""
    date_swap: float = 0.0
    """Per record: day and month of the birth date swapped (where that is still a date)."""
    moved: float = 0.0
    """Per person: a second address, shown in part of the person's records."""
    married: float = 0.0
    """Per person (mostly women): a changed family name, shown in part of the records."""
    duplicate: float = 0.0
    """Per enrolment: sent twice in the programme, under two source IDs."""
    missing_mother: float = 0.0
    """Per record: `mother_name` left out."""
    relatives: float = 0.0
    """Per twin or parent/child namesake pair: both enrolled in a same programme."""

    @classmethod
    def none(cls) -> Noise:
        """Every record is exactly its person, always with the national ID."""
        return cls()

    @classmethod
    def demo(cls) -> Noise:
        """Realistic, mild noise for the demo."""
        return cls(
            id_coverage=True,
            id_typo=0.01,
            name_typo=0.02,
            transliteration=0.03,
            name_swap=0.005,
            date_swap=0.005,
            moved=0.05,
            married=0.02,
            duplicate=0.01,
            missing_mother=0.1,
            relatives=0.3,
        )

    @classmethod
    def hard(cls) -> Noise:
        """Heavy noise, for the linkage-quality benchmark."""
        return cls(
            id_coverage=True,
            id_typo=0.04,
            name_typo=0.08,
            transliteration=0.10,
            name_swap=0.03,
            date_swap=0.03,
            moved=0.15,
            married=0.06,
            duplicate=0.03,
            missing_mother=0.3,
            relatives=0.8,
        )


def _mistype_id(rng: random.Random, cpr: str) -> str:
    # Half of the time hit the DDMM part, which often makes the date impossible.
    pos = rng.randrange(4) if rng.random() < 0.5 else rng.randrange(len(cpr))
    old = cpr[pos]
    new = old
    while new == old:
        new = str(rng.randrange(10))
    return cpr[:pos] + new + cpr[pos + 1 :]


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 3:
        return name
    op = rng.randrange(4)
    pos = rng.randrange(1, len(name) - 1)  # keep the capital initial
    letters = N.TYPO_LETTERS
    if op == 0:  # insert
        return name[:pos] + rng.choice(letters) + name[pos:]
    if op == 1:  # delete
        return name[:pos] + name[pos + 1 :]
    if op == 2:  # substitute
        old = name[pos]
        new = old
        while new == old:
            new = rng.choice(letters)
        return name[:pos] + new + name[pos + 1 :]
    if name[pos] == name[pos + 1]:  # transpose of equal letters: substitute instead
        return name[:pos] + ("a" if name[pos] != "a" else "e") + name[pos + 1 :]
    return name[:pos] + name[pos + 1] + name[pos] + name[pos + 2 :]


def _transliterate(name: str, variant: int) -> str:
    if name.isascii():
        return name
    out = []
    for char in name:
        options = N.TRANSLITERATIONS.get(char)
        out.append(options[min(variant, len(options) - 1)] if options else char)
    return "".join(out)


# --------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class Feeds:
    """The generated feeds and their ground truth.

    `records`: programme code -> records in API.md's feed format (JSON-ready dicts), in
    source-ID order. `truth`: (programme, source_id) -> index of the true person.
    `invalid`: (programme, source_id) -> kind (one of INVALID_KINDS) for the records made
    invalid on purpose.
    """

    records: dict[str, list[dict[str, Any]]]
    truth: dict[tuple[str, str], int]
    invalid: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def n_records(self) -> int:
        return sum(len(records) for records in self.records.values())

    def persons_of(self, programme: str) -> set[int]:
        """The true persons with at least one record in a programme."""
        return {self.truth[(programme, r["source_id"])] for r in self.records[programme]}


_AMOUNT_MEDIAN = {
    "1.1": 4000.0,
    "1.8.1": 45000.0,
    "1.8.2": 35000.0,
    "1.12.0.1": 12000.0,
    "1.12.0.2": 6000.0,
    "1.18.1": 1500.0,
    "1.18.2": 3000.0,
}
_EARLIEST_START = date(2012, 1, 1).toordinal()
_AFFINITY = 4.0


def _secondary_rates(programmes: Sequence[ProgrammeSpec]) -> list[list[float]]:
    """rates[p][q]: chance of also joining q for a person whose first programme is p.

    With first programmes drawn in proportion to the shares, these rates make each
    programme's marginal share equal its `share` (when the shares sum to >= 1).
    """
    total = sum(spec.share for spec in programmes)
    first = [spec.share / total for spec in programmes]
    codes = [spec.code for spec in programmes]
    count = len(programmes)
    rates = [[0.0] * count for _ in range(count)]
    for q, spec in enumerate(programmes):
        if first[q] >= 1.0 or total <= 1.0:
            continue
        extra = (spec.share - first[q]) / (1 - first[q])
        affinity = [
            _AFFINITY
            if (codes[p] in spec.often_with or spec.code in programmes[p].often_with)
            else 1.0
            for p in range(count)
        ]
        norm = sum(first[p] * affinity[p] for p in range(count) if p != q)
        if norm <= 0:
            continue
        scale = (1 - first[q]) * extra / norm
        for p in range(count):
            if p != q:
                rates[p][q] = min(1.0, scale * affinity[p])
    return rates


def _enrolment(
    rng: random.Random, spec: ProgrammeSpec, person: PersonTruth, as_of: date
) -> dict[str, Any]:
    benefit = rng.choice(spec.benefit_codes)
    target_group = person.target_group
    if benefit.startswith(UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX) and rng.random() < 0.2:
        target_group = UNSPECIFIED_TARGET_GROUP
    today = as_of.toordinal()
    adult = _years_before(person.birth_date, -18).toordinal()
    lo = max(_EARLIEST_START, adult)
    if lo >= today:
        lo = max(person.birth_date.toordinal() + 1, today - 365)
    start = rng.randint(lo, today)
    end: int | None = None
    status = "active"
    u = rng.random()
    if u < 0.3:
        status = "ended"
        end = rng.randint(start, today)
    elif u < 0.33:
        end = today  # the benefit's last day is the reference date
    median = _AMOUNT_MEDIAN.get(benefit, 5000.0)
    amount = round(median * math.exp(rng.gauss(0.0, 0.35)), 2)
    return {
        "benefit_code": benefit,
        "target_group": target_group,
        "status": status,
        "start_date": date.fromordinal(start).isoformat(),
        "end_date": None if end is None else date.fromordinal(end).isoformat(),
        "amount": amount,
    }


@dataclass
class _PersonState:
    """Per-person noise that spans the person's records."""

    alt_address: tuple[str, str] | None = None
    alt_family: str | None = None
    shown: int = 0  # records emitted so far, to alternate between variants


def _record(
    rng: random.Random,
    spec: ProgrammeSpec,
    person: PersonTruth,
    state: _PersonState,
    noise: Noise,
    as_of: date,
) -> dict[str, Any]:
    variant = (state.shown + person.index) % 2 == 1
    state.shown += 1

    national_id: str | None = person.national_id
    if noise.id_coverage and rng.random() >= spec.id_coverage:
        national_id = None
    elif national_id is not None and noise.id_typo and rng.random() < noise.id_typo:
        national_id = _mistype_id(rng, national_id)

    given, family, mother = person.given_name, person.family_name, person.mother_name
    if state.alt_family is not None and variant:
        family = state.alt_family
    if noise.transliteration and rng.random() < noise.transliteration:
        choice = 0 if rng.random() < 0.7 else 1
        given = _transliterate(given, choice)
        family = _transliterate(family, choice)
        mother = _transliterate(mother, choice)
    if noise.name_typo:
        if rng.random() < noise.name_typo:
            given = _typo(rng, given)
        if rng.random() < noise.name_typo:
            family = _typo(rng, family)
        if rng.random() < noise.name_typo:
            mother = _typo(rng, mother)
    if noise.name_swap and rng.random() < noise.name_swap:
        given, family = family, given

    born = person.birth_date
    if (
        noise.date_swap
        and rng.random() < noise.date_swap
        and born.day <= 12
        and born.day != born.month
    ):
        born = born.replace(month=born.day, day=born.month)

    region, municipality = person.region, person.municipality
    if state.alt_address is not None and variant:
        region, municipality = state.alt_address

    record: dict[str, Any] = {
        "source_id": "",
        "national_id": national_id,
        "given_name": given,
        "family_name": family,
        "birth_date": born.isoformat(),
        "sex": person.sex,
        "region": region,
        "municipality": municipality,
    }
    if not (noise.missing_mother and rng.random() < noise.missing_mother):
        record["mother_name"] = mother
    record["enrolment"] = _enrolment(rng, spec, person, as_of)
    return record


_BAD_BENEFIT_CODES = ("1.2", "1.12.0.9", "1.8.3", "9.9", "1.18", "2.1")
_BAD_TARGET_GROUPS = ("1.3", "1.1.7", "3", "11", "1.2")
_IMPOSSIBLE_DAYS = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31", "13-01", "00-10")


def _make_invalid(
    rng: random.Random, record: dict[str, Any], spec: ProgrammeSpec, kind: str, as_of: date
) -> bool:
    """Make `record` invalid in the given way; False if that is impossible here."""
    enrolment = record["enrolment"]
    if kind == "invalid_benefit_code":
        enrolment["benefit_code"] = rng.choice(_BAD_BENEFIT_CODES)
    elif kind == "invalid_target_group":
        enrolment["target_group"] = rng.choice(_BAD_TARGET_GROUPS)
    elif kind == "target_group_10_without_1_18":
        others = [
            code
            for code in spec.benefit_codes
            if not code.startswith(UNSPECIFIED_TARGET_GROUP_BENEFIT_PREFIX)
        ]
        if not others:
            return False
        enrolment["benefit_code"] = rng.choice(others)
        enrolment["target_group"] = UNSPECIFIED_TARGET_GROUP
    elif kind == "missing_start_date":
        enrolment["start_date"] = None
    elif kind == "end_before_start":
        start = date.fromisoformat(enrolment["start_date"])
        enrolment["status"] = "ended"
        enrolment["end_date"] = (start - timedelta(days=rng.randint(1, 400))).isoformat()
    elif kind == "impossible_date":
        key = "end_date" if enrolment["end_date"] and rng.random() < 0.3 else "start_date"
        year = enrolment[key][:4]
        enrolment[key] = f"{year}-{rng.choice(_IMPOSSIBLE_DAYS)}"
    elif kind == "future_end_date":
        enrolment["status"] = "ended"
        enrolment["end_date"] = (as_of + timedelta(days=rng.randint(30, 3650))).isoformat()
    else:
        raise ValueError(f"unknown invalid kind {kind!r}")
    return True


def generate_feeds(
    persons: Sequence[PersonTruth],
    programmes: Sequence[ProgrammeSpec],
    noise: Noise,
    seed: int = 0,
    invalid_share: float = 0.0,
    *,
    as_of: date = AS_OF,
) -> Feeds:
    """Every person's records in the programmes' feeds, with noise and ground truth.

    Every person is enrolled in at least one programme; further programmes follow the
    programmes' shares and affinities (so 2 and 3 programmes per person occur). Records
    are shuffled within a programme before their source IDs are assigned, so the source
    ID says nothing about the person. With `invalid_share` > 0, that share of records is
    made invalid, cycling through INVALID_KINDS (see `Feeds.invalid`).
    """
    if not programmes:
        raise ValueError("at least one programme is needed")
    rng = random.Random(f"registry.demo.feeds/{seed}")
    count = len(programmes)
    codes = [spec.code for spec in programmes]
    if len(set(codes)) != count:
        raise ValueError("programme codes must be unique")
    total = sum(spec.share for spec in programmes)
    first_table = _Table([(str(p), spec.share / total) for p, spec in enumerate(programmes)])
    rates = _secondary_rates(programmes)

    # Which programmes each person is in (first programme first).
    enrolled: list[list[int]] = []
    for _ in persons:
        first = int(first_table.draw(rng))
        mine = [first]
        row = rates[first]
        for q in range(count):
            if q != first and row[q] and rng.random() < row[q]:
                mine.append(q)
        enrolled.append(mine)
    if noise.relatives:
        for person in persons:
            other = person.twin_of if person.twin_of is not None else person.namesake_of
            if other is None or other < person.index:
                continue  # each pair once, from its first member
            if rng.random() < noise.relatives and enrolled[person.index][0] not in enrolled[other]:
                enrolled[other].append(enrolled[person.index][0])

    # Person-level noise, then the records person by person.
    per_programme: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in programmes]
    for person in persons:
        state = _PersonState()
        if noise.moved and rng.random() < noise.moved:
            if rng.random() < 0.5:
                region = person.region
                municipality = _MUNICIPALITY[region].draw(rng)
            else:
                region, municipality = _address(rng)
            if (region, municipality) != (person.region, person.municipality):
                state.alt_address = (region, municipality)
        if noise.married and rng.random() < noise.married * (1.8 if person.sex == "F" else 0.2):
            new = _FAMILY.draw(rng)
            if new != person.family_name:
                state.alt_family = new
        for p in enrolled[person.index]:
            spec = programmes[p]
            copies = 2 if noise.duplicate and rng.random() < noise.duplicate else 1
            for _ in range(copies):
                record = _record(rng, spec, person, state, noise, as_of)
                per_programme[p].append((person.index, record))

    records: dict[str, list[dict[str, Any]]] = {}
    truth: dict[tuple[str, str], int] = {}
    for spec, rows in zip(programmes, per_programme, strict=True):
        rng.shuffle(rows)
        out = []
        for number, (index, record) in enumerate(rows, start=1):
            source_id = f"{spec.code}-{number:07d}"
            record["source_id"] = source_id
            truth[(spec.code, source_id)] = index
            out.append(record)
        records[spec.code] = out

    invalid: dict[tuple[str, str], str] = {}
    if invalid_share > 0:
        turn = 0
        for spec in programmes:
            for record in records[spec.code]:
                if rng.random() >= invalid_share:
                    continue
                for attempt in range(len(INVALID_KINDS)):
                    kind = INVALID_KINDS[(turn + attempt) % len(INVALID_KINDS)]
                    if _make_invalid(rng, record, spec, kind, as_of):
                        invalid[(spec.code, record["source_id"])] = kind
                        turn += attempt + 1
                        break
    return Feeds(records=records, truth=truth, invalid=invalid)


def batches(records: Sequence[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """The records in consecutive batches of at most `size` (API.md: at most 10,000)."""
    if size < 1:
        raise ValueError("size must be >= 1")
    for start in range(0, len(records), size):
        yield list(records[start : start + size])
