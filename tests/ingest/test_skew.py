"""Skewed blocks: a key held by a large share of the registry is capped, not exploded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry.core.db import transaction
from registry.core.settings import Settings
from registry.ingest.service import ingest_batch
from registry.matching.blocks import remeasure_oversized_blocks
from registry.matching.incremental import CANDIDATES
from registry.programmes.service import get_programme
from tests.factories import make_programme, record

DEFAULT_DAY = "1900-01-01"  # a legacy MIS's "unknown" birth date
GIVEN = ["Anna", "Bent", "Carl", "Dorte", "Erik", "Finn", "Grete", "Hans", "Inge", "Jens"]
FAMILY = ["Skov", "Dahl", "Berg", "Lund", "Holm", "Krog", "Vest", "Bach", "Munk", "Friis"]


def push(session: Session, settings: Settings, batch_id: str, records: list[Any]) -> Any:
    return ingest_batch(
        session,
        programme=get_programme(session, "SEL85"),
        batch_id=batch_id,
        records=records,
        submitted_by="test",
        settings=settings,
    ).answer.as_json()


def skewed_registry(engine: Engine, settings: Settings) -> None:
    """100 persons without national ID, all born on the default day in one region."""
    make_programme(engine, "SEL85", ["1.12.0.2"])
    records = [
        record(
            f"R{i}",
            national_id=None,
            given_name=GIVEN[i % 10],
            family_name=f"{FAMILY[i // 10]}{'sen' if i % 3 else ''}",
            birth_date=DEFAULT_DAY,
            region="1084",
            municipality=str(101 + i),
            mother_name=f"Mor{i}",
        )
        for i in range(100)
    ]
    with transaction(engine) as session:
        push(session, settings, "base", records)


def newcomer() -> dict[str, Any]:
    """A person of the default day whose only key in common with the registry is the day's."""
    return record(
        "N2",
        national_id=None,
        given_name="Ulla",
        family_name="Qvist",
        birth_date=DEFAULT_DAY,
        region="1084",
        municipality="999",
        mother_name="Ukendt",
    )


def r37_again() -> dict[str, Any]:
    """Another programme's record of R37's person (no national ID): shares all its keys."""
    return record(
        "N1",
        national_id=None,
        given_name=GIVEN[7],
        family_name=f"{FAMILY[3]}sen",
        birth_date=DEFAULT_DAY,
        region="1084",
        municipality=str(101 + 37),
        mother_name="Mor37",
    )


def push_and_candidates(
    engine: Engine, settings: Settings, records: list[Any], batch_id: str = "new"
) -> tuple[Any, dict[int, list[int]]]:
    """Ingest a batch; the registry records the candidate query chose per batch position."""
    with transaction(engine) as session:
        answer = push(session, settings, batch_id, records)
        # the stage still holds the batch until commit: ask the candidate query what it chose
        session.execute(text("UPDATE ingest_stage SET person_id = NULL"))
        limits = {
            "max_block": settings.linkage_max_block,
            "max_candidates": settings.linkage_max_candidates,
            "single_block": settings.linkage_single_block,
        }
        pairs = [(r.ord, r.record_id) for r in session.execute(text(CANDIDATES), limits)]
        own = set(session.execute(text("SELECT record_id FROM ingest_stage")).scalars())
    chosen: dict[int, list[int]] = {}
    for ord_, record_id in pairs:
        if record_id not in own:  # the batch's own keys are stored by now
            chosen.setdefault(ord_, []).append(record_id)
    return answer, chosen


def test_an_oversized_block_is_skipped_and_candidates_are_capped(
    engine: Engine, settings: Settings
) -> None:
    capped = settings.model_copy(update={"linkage_max_block": 30, "linkage_max_candidates": 4})
    skewed_registry(engine, capped)
    with engine.connect() as conn:
        shared = conn.execute(
            text("SELECT count(*) FROM blocking_key WHERE key = :k"),
            {"k": f"dr:{DEFAULT_DAY}:1084"},
        ).scalar_one()
        r37, r37_person = conn.execute(
            text("SELECT id, person_id::text FROM source_record WHERE source_id = 'R37'")
        ).one()
    assert shared == 100  # the default date + region key covers the whole registry

    # R37 again (another programme's record of the same person), plus a newcomer of that day
    again = r37_again()
    answer, by_ord = push_and_candidates(engine, capped, [again, newcomer()])
    # never the 100-record block: at most 4 candidates each, the true match among them
    assert all(len(ids) <= 4 for ids in by_ord.values())
    assert r37 in by_ord[0]
    # the newcomer shares only the oversized key with the registry: no candidate at all
    assert 1 not in by_ord
    first, second = answer["results"]
    assert first["person_id"] == r37_person
    assert second["status"] == "created" and second["person_id"] != r37_person


def test_without_the_cap_the_block_would_be_scored(engine: Engine, settings: Settings) -> None:
    """Control: with block limits above the skew, the newcomer meets the whole block."""
    loose = settings.model_copy(
        update={
            "linkage_max_block": 500,
            "linkage_max_candidates": 500,
            "linkage_single_block": 500,
        }
    )
    skewed_registry(engine, loose)
    _, by_ord = push_and_candidates(engine, loose, [newcomer()])
    assert len(set(by_ord[0])) == 100


def test_one_shared_key_of_a_usable_block_is_not_enough(engine: Engine, settings: Settings) -> None:
    """Within the block limit, a block-mate sharing one key only is no candidate (two keys
    are, or one key of a tiny block): the rule that keeps the work per record flat."""
    assert settings.linkage_max_block >= 100 and settings.linkage_single_block < 100
    skewed_registry(engine, settings)
    _, by_ord = push_and_candidates(engine, settings, [newcomer()])
    assert by_ord == {}


def noted_sizes(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, size FROM blocking_key_oversized")).all()
    return {key: size for key, size in rows}


def test_an_oversized_block_is_named_with_the_size_found(
    engine: Engine, settings: Settings
) -> None:
    capped = settings.model_copy(update={"linkage_max_block": 30})
    skewed_registry(engine, capped)
    assert noted_sizes(engine) == {}  # the base batch met an empty registry
    push_and_candidates(engine, capped, [newcomer()])
    # read one record past the limit: named with the size it was found to reach
    assert noted_sizes(engine) == {f"dr:{DEFAULT_DAY}:1084": 31}


def test_a_named_key_is_not_read_under_a_limit_below_its_size(
    engine: Engine, settings: Settings
) -> None:
    """R37's own keys, named oversized by hand (their blocks are small): its new record
    finds no candidate through them; a limit above the named size reads them again."""
    skewed_registry(engine, settings)
    again = r37_again()
    with engine.begin() as conn:
        r37 = conn.execute(text("SELECT id FROM source_record WHERE source_id = 'R37'")).scalar()
        conn.execute(
            text(
                "INSERT INTO blocking_key_oversized (key, size) "
                "SELECT key, 150 FROM blocking_key WHERE source_record_id = :r"
            ),
            {"r": r37},
        )
    _, by_ord = push_and_candidates(engine, settings, [again])
    assert r37 not in by_ord.get(0, [])

    wider = settings.model_copy(update={"linkage_max_block": 150})
    _, by_ord = push_and_candidates(engine, wider, [{**again, "source_id": "N2"}], "wider")
    assert r37 in by_ord[0]


def test_a_shrunk_block_is_measured_again(engine: Engine, settings: Settings) -> None:
    capped = settings.model_copy(update={"linkage_max_block": 30})
    skewed_registry(engine, capped)
    push_and_candidates(engine, capped, [newcomer()])
    key = f"dr:{DEFAULT_DAY}:1084"
    with transaction(engine) as session:  # 80 of the 100 records leave the registry
        retractions = [{"source_id": f"R{i}", "retracted": True} for i in range(80)]
        answer = push(session, capped, "retract", retractions)
        assert answer["accepted"] == 80
        assert remeasure_oversized_blocks(session) == 1
    # the block now holds 20 records, plus the newcomer: under the limit, read again
    assert noted_sizes(engine) == {key: 21}
    with engine.connect() as conn:
        first_newcomer = conn.execute(
            text("SELECT id FROM source_record WHERE source_id = 'N2'")
        ).scalar()
    _, by_ord = push_and_candidates(engine, capped, [{**newcomer(), "source_id": "N3"}], "again")
    assert first_newcomer in by_ord[0] and noted_sizes(engine) == {key: 21}
