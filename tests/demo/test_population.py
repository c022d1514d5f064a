"""The synthetic population and feed generator: pure, no database."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from datetime import date

import pytest

from registry.demo.names import REGIONS
from registry.demo.population import (
    INVALID_KINDS,
    L402_BENEFIT_CODES,
    L402_TARGET_GROUPS,
    Feeds,
    Noise,
    PersonTruth,
    ProgrammeSpec,
    batches,
    cpr_birth_date,
    demo_programmes,
    generate_feeds,
    generate_persons,
)

RECORD_KEYS = {
    "source_id",
    "national_id",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "region",
    "municipality",
    "mother_name",
    "enrolment",
}
ENROLMENT_KEYS = {"benefit_code", "target_group", "status", "start_date", "end_date", "amount"}


def century_rule_birth_date(cpr: str) -> date | None:
    """An independent reading of the CPR century rule, for checking the generator."""
    if len(cpr) != 10 or not cpr.isdigit():
        return None
    yy, seventh = int(cpr[4:6]), int(cpr[6])
    if seventh in (0, 1, 2, 3):
        year = 1900 + yy
    elif seventh in (4, 9):
        year = (2000 if yy <= 36 else 1900) + yy
    else:
        year = (2000 if yy <= 57 else 1800) + yy
    try:
        return date(year, int(cpr[2:4]), int(cpr[0:2]))
    except ValueError:
        return None


@pytest.fixture(scope="module")
def persons() -> list[PersonTruth]:
    return generate_persons(20_000, seed=7)


@pytest.fixture(scope="module")
def programmes() -> list[ProgrammeSpec]:
    return demo_programmes()


@pytest.fixture(scope="module")
def demo_feeds(persons: list[PersonTruth], programmes: list[ProgrammeSpec]) -> Feeds:
    return generate_feeds(persons, programmes, Noise.demo(), seed=7)


@pytest.fixture(scope="module")
def hard_feeds(persons: list[PersonTruth], programmes: list[ProgrammeSpec]) -> Feeds:
    return generate_feeds(persons, programmes, Noise.hard(), seed=3)


def programmes_per_person(feeds: Feeds) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for (code, _), index in feeds.truth.items():
        found[index].add(code)
    return found


# --------------------------------------------------------------------------- persons


def test_cpr_numbers_are_valid_unique_and_match_birth_date_and_sex(
    persons: list[PersonTruth],
) -> None:
    ids = [p.national_id for p in persons]
    assert len(set(ids)) == len(ids)
    for person in persons:
        assert century_rule_birth_date(person.national_id) == person.birth_date, person
        assert cpr_birth_date(person.national_id) == person.birth_date
        assert int(person.national_id[-1]) % 2 == (1 if person.sex == "M" else 0)
    sevenths = Counter(p.national_id[6] for p in persons)
    assert set(sevenths) >= {"0", "1", "2", "3", "4", "9"}


def test_cpr_century_rule_examples() -> None:
    assert cpr_birth_date("0705404916") == date(1940, 5, 7)
    assert cpr_birth_date("0101104001") == date(2010, 1, 1)
    assert cpr_birth_date("0101605001") == date(1860, 1, 1)
    assert cpr_birth_date("0101505001") == date(2050, 1, 1)
    assert cpr_birth_date("3002901234") is None
    assert cpr_birth_date("12345") is None


def test_persons_look_plausible(persons: list[PersonTruth]) -> None:
    assert {p.sex for p in persons} == {"F", "M"}
    assert [p.index for p in persons] == list(range(len(persons)))
    adults = sum(18 <= (date(2026, 11, 1) - p.birth_date).days // 365.25 <= 100 for p in persons)
    assert adults / len(persons) > 0.97
    assert max(date(2026, 11, 1).year - p.birth_date.year for p in persons) <= 101
    for person in persons:
        assert person.municipality in dict(REGIONS[person.region]), person
        assert person.target_group in L402_TARGET_GROUPS
        assert person.target_group != "10"
    names = [f"{p.given_name} {p.family_name}" for p in persons]
    assert any(c in n for n in names for c in "æøå")
    assert any("-" in p.family_name for p in persons)
    assert any("-" in p.given_name for p in persons)
    assert any(" " in p.given_name for p in persons)
    assert any(c in n for n in names for c in "şığçı")  # Turkish
    assert any(c in n for n in names for c in "łąśżź")  # Polish
    assert sum(p.family_name.endswith("sen") for p in persons) / len(persons) > 0.5
    top_family, top_count = Counter(p.family_name for p in persons).most_common(1)[0]
    assert top_family in {"Nielsen", "Jensen"}
    assert top_count / len(persons) > 0.04  # a skewed name distribution
    assert len({p.family_name for p in persons}) > 200


def test_twins_share_family_birth_date_and_mother_but_are_distinct(
    persons: list[PersonTruth], demo_feeds: Feeds
) -> None:
    twins = [p for p in persons if p.twin_of is not None]
    assert len(twins) / len(persons) > 0.01
    for person in twins:
        other = persons[person.twin_of]  # type: ignore[index]
        assert other.twin_of == person.index
        assert other.index != person.index
        assert other.national_id != person.national_id
        assert other.birth_date == person.birth_date
        assert other.mother_name == person.mother_name
        assert other.given_name != person.given_name
        assert other.family_name == person.family_name
    in_feeds = programmes_per_person(demo_feeds)
    both = [p for p in twins if p.index in in_feeds and p.twin_of in in_feeds]
    assert len(both) == len(twins)  # everyone is in some programme, as a distinct person
    same_programme = [p for p in twins if in_feeds[p.index] & in_feeds[p.twin_of]]  # type: ignore[index]
    assert same_programme


def test_parent_and_child_namesakes_are_distinct(persons: list[PersonTruth]) -> None:
    children = [p for p in persons if p.namesake_of is not None]
    assert children
    for child in children:
        parent = persons[child.namesake_of]  # type: ignore[index]
        assert parent.index != child.index
        assert (parent.given_name, parent.family_name) == (child.given_name, child.family_name)
        assert (child.birth_date - parent.birth_date).days > 19 * 365
        assert (date(2026, 11, 1) - child.birth_date).days >= 18 * 365
        if parent.sex == "F":
            assert child.mother_name == parent.full_name


# --------------------------------------------------------------------------- feeds


def test_programmes_are_built_from_l402(programmes: list[ProgrammeSpec]) -> None:
    assert [p.code for p in programmes] == ["SEL85", "SEL104", "SEL107", "SEL82"]
    for spec in programmes:
        assert spec.benefit_codes
        assert set(spec.benefit_codes) <= set(L402_BENEFIT_CODES)
        assert 0 < spec.share < 1 and 0 < spec.id_coverage <= 1
        assert spec.api_payload()["benefit_codes"] == list(spec.benefit_codes)
    assert sorted(p.id_coverage for p in programmes) == [0.6, 0.8, 0.95, 1.0]


def test_records_follow_the_feed_format_and_code_lists(
    demo_feeds: Feeds, programmes: list[ProgrammeSpec], persons: list[PersonTruth]
) -> None:
    assert demo_feeds.invalid == {}
    for spec in programmes:
        records = demo_feeds.records[spec.code]
        ids = [r["source_id"] for r in records]
        assert len(set(ids)) == len(ids)
        for record in records:
            assert set(record) <= RECORD_KEYS
            assert set(record) >= RECORD_KEYS - {"mother_name"}
            assert record["source_id"].startswith(spec.code + "-")
            assert (spec.code, record["source_id"]) in demo_feeds.truth
            assert record["sex"] in {"F", "M"}
            assert record["municipality"] in dict(REGIONS[record["region"]])
            date.fromisoformat(record["birth_date"])
            enrolment = record["enrolment"]
            assert set(enrolment) == ENROLMENT_KEYS
            assert enrolment["benefit_code"] in spec.benefit_codes
            assert enrolment["target_group"] in L402_TARGET_GROUPS
            if enrolment["target_group"] == "10":
                assert enrolment["benefit_code"].startswith("1.18.")
            assert enrolment["status"] in {"active", "ended"}
            start = date.fromisoformat(enrolment["start_date"])
            assert start <= date(2026, 11, 1)
            assert start > persons[demo_feeds.truth[(spec.code, record["source_id"])]].birth_date
            if enrolment["end_date"] is not None:
                end = date.fromisoformat(enrolment["end_date"])
                assert start <= end <= date(2026, 11, 1)
            elif enrolment["status"] == "ended":
                pytest.fail("an ended enrolment without an end date")
            assert isinstance(enrolment["amount"], float)
            assert round(enrolment["amount"], 2) == enrolment["amount"] > 0
    assert len(demo_feeds.truth) == demo_feeds.n_records
    active = [r["enrolment"] for rs in demo_feeds.records.values() for r in rs]
    active = [e for e in active if e["status"] == "active"]
    assert sum(e["end_date"] is None for e in active) / len(active) > 0.8
    assert any(r["enrolment"]["target_group"] == "10" for r in demo_feeds.records["SEL82"])
    json.dumps(demo_feeds.records, ensure_ascii=False)


def test_national_ids_are_absent_at_about_the_configured_coverage(
    demo_feeds: Feeds, programmes: list[ProgrammeSpec]
) -> None:
    for spec in programmes:
        records = demo_feeds.records[spec.code]
        carried = sum(r["national_id"] is not None for r in records) / len(records)
        assert carried == pytest.approx(spec.id_coverage, abs=0.02), spec.code


def test_no_noise_means_records_are_their_persons(
    persons: list[PersonTruth], programmes: list[ProgrammeSpec]
) -> None:
    feeds = generate_feeds(persons[:3000], programmes, Noise.none(), seed=1)
    for code, records in feeds.records.items():
        for record in records:
            person = persons[feeds.truth[(code, record["source_id"])]]
            assert record["national_id"] == person.national_id
            assert (record["given_name"], record["family_name"]) == (
                person.given_name,
                person.family_name,
            )
            assert record["birth_date"] == person.birth_date.isoformat()
            assert record["mother_name"] == person.mother_name
            assert (record["region"], record["municipality"]) == (
                person.region,
                person.municipality,
            )


def test_programme_shares_and_overlaps(
    demo_feeds: Feeds, programmes: list[ProgrammeSpec], persons: list[PersonTruth]
) -> None:
    per_person = programmes_per_person(demo_feeds)
    assert len(per_person) == len(persons)  # everyone is in at least one programme
    by_count = Counter(len(codes) for codes in per_person.values())
    assert by_count[2] / len(persons) > 0.1
    assert by_count[3] > 0.01 * len(persons)
    for spec in programmes:
        share = len(demo_feeds.persons_of(spec.code)) / len(persons)
        assert share == pytest.approx(spec.share, abs=0.03), spec.code
    pairs = Counter(
        tuple(sorted(codes)) for codes in per_person.values() if len(codes) == 2
    ).most_common()
    assert pairs[0][0] == ("SEL107", "SEL85")


def test_same_seed_same_output_other_seed_other_output(programmes: list[ProgrammeSpec]) -> None:
    a = generate_persons(2000, seed=11)
    b = generate_persons(2000, seed=11)
    assert a == b
    assert generate_persons(2000, seed=12) != a
    fa = generate_feeds(a, programmes, Noise.hard(), seed=5, invalid_share=0.02)
    fb = generate_feeds(b, programmes, Noise.hard(), seed=5, invalid_share=0.02)
    assert fa == fb
    assert json.dumps(fa.records) == json.dumps(fb.records)
    fc = generate_feeds(a, programmes, Noise.hard(), seed=6, invalid_share=0.02)
    assert fc.records != fa.records


def test_noise_kinds_all_occur(hard_feeds: Feeds, persons: list[PersonTruth]) -> None:
    seen: Counter[str] = Counter()
    per_programme: Counter[tuple[str, int]] = Counter()
    addresses: dict[int, set[tuple[str, str]]] = defaultdict(set)
    families: dict[int, set[str]] = defaultdict(set)
    for code, records in hard_feeds.records.items():
        for record in records:
            person = persons[hard_feeds.truth[(code, record["source_id"])]]
            per_programme[(code, person.index)] += 1
            addresses[person.index].add((record["region"], record["municipality"]))
            families[person.index].add(record["family_name"])
            nid = record["national_id"]
            if nid is not None and nid != person.national_id:
                seen["id_typo"] += 1
                assert sum(a != b for a, b in zip(nid, person.national_id, strict=True)) == 1
                if cpr_birth_date(nid) is None:
                    seen["id_typo_invalid_date"] += 1
            if (record["given_name"], record["family_name"]) == (
                person.family_name,
                person.given_name,
            ):
                seen["swap"] += 1
            if record["birth_date"] != person.birth_date.isoformat():
                seen["date_swap"] += 1
                born = date.fromisoformat(record["birth_date"])
                assert (born.year, born.month, born.day) == (
                    person.birth_date.year,
                    person.birth_date.day,
                    person.birth_date.month,
                )
            if "ø" in person.family_name and "oe" in record["family_name"]:
                seen["transliteration"] += 1
            if "mother_name" not in record:
                seen["missing_mother"] += 1
    assert seen["id_typo"] and seen["id_typo_invalid_date"] > 0.2 * seen["id_typo"]
    assert seen["swap"] and seen["date_swap"] and seen["transliteration"]
    assert seen["missing_mother"]
    assert any(n == 2 for n in per_programme.values())  # duplicate enrolments
    assert sum(len(a) > 1 for a in addresses.values()) > 100  # moved
    assert sum(len(f) > 1 for f in families.values()) > 100  # married, typos


def test_invalid_records_are_of_every_listed_kind(
    persons: list[PersonTruth], programmes: list[ProgrammeSpec]
) -> None:
    feeds = generate_feeds(persons[:5000], programmes, Noise.demo(), seed=2, invalid_share=0.03)
    kinds = Counter(feeds.invalid.values())
    assert set(kinds) == set(INVALID_KINDS)
    assert 0.02 < len(feeds.invalid) / feeds.n_records < 0.04
    by_key = {(c, r["source_id"]): r for c, rs in feeds.records.items() for r in rs}
    specs = {p.code: p for p in programmes}
    for key, kind in feeds.invalid.items():
        enrolment = by_key[key]["enrolment"]
        benefit, target = enrolment["benefit_code"], enrolment["target_group"]
        if kind == "invalid_benefit_code":
            assert benefit not in L402_BENEFIT_CODES
        elif kind == "invalid_target_group":
            assert target not in L402_TARGET_GROUPS
        elif kind == "target_group_10_without_1_18":
            assert target == "10" and not benefit.startswith("1.18.")
            assert benefit in specs[key[0]].benefit_codes
        elif kind == "missing_start_date":
            assert enrolment["start_date"] is None
        elif kind == "end_before_start":
            assert enrolment["end_date"] < enrolment["start_date"]
        elif kind == "impossible_date":
            bad = [
                enrolment[k]
                for k in ("start_date", "end_date")
                if enrolment[k] and not _is_date(enrolment[k])
            ]
            assert len(bad) == 1
        elif kind == "future_end_date":
            assert date.fromisoformat(enrolment["end_date"]) > date(2026, 11, 1)
    valid = [r for k, r in by_key.items() if k not in feeds.invalid]
    assert all(_is_date(r["enrolment"]["start_date"]) for r in valid)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def test_batches() -> None:
    records = [{"source_id": str(i)} for i in range(2500)]
    sizes = [len(b) for b in batches(records, 1000)]
    assert sizes == [1000, 1000, 500]
    assert [r for b in batches(records, 1000) for r in b] == records
    assert list(batches([], 10)) == []
    with pytest.raises(ValueError):
        list(batches(records, 0))


def test_100k_records_are_fast(programmes: list[ProgrammeSpec]) -> None:
    started = time.perf_counter()
    persons = generate_persons(90_000, seed=1)
    feeds = generate_feeds(persons, programmes, Noise.demo(), seed=1)
    elapsed = time.perf_counter() - started
    with_id = sum(r["national_id"] is not None for rs in feeds.records.values() for r in rs)
    assert feeds.n_records >= 100_000
    assert with_id >= 100_000
    assert elapsed < 10, elapsed
