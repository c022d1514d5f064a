"""Concurrent feeds that bring the same new person end with one person, never two."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, text

from registry.core.db import transaction, with_retries
from registry.core.settings import Settings
from registry.ingest.service import ingest_batch
from registry.programmes.service import get_programme
from tests.factories import make_programme, record


def test_same_new_national_id_from_two_feeds_at_once_is_one_person(
    engine: Engine, settings: Settings
) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_programme(engine, "SEL104", ["1.1"])
    national_ids = [f"{day:02d}0190{n:04d}" for day in range(1, 29) for n in (1234, 5678)]
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def push(code: str, benefit: str) -> None:
        batch = [
            record(
                f"{code}-{i}",
                national_id=nid,
                birth_date=f"1990-01-{nid[:2]}",
                enrolment={"benefit_code": benefit, "target_group": None},
            )
            for i, nid in enumerate(national_ids)
        ]
        with transaction(engine) as session:
            start.wait(timeout=10)
            answers[code] = with_retries(
                session,
                lambda: ingest_batch(
                    session,
                    programme=get_programme(session, code),
                    batch_id="same-moment",
                    records=batch,
                    submitted_by="test",
                    settings=settings,
                ),
            )

    threads = [
        threading.Thread(target=push, args=args)
        for args in (("SEL85", "1.12.0.2"), ("SEL104", "1.1"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(answers) == {"SEL85", "SEL104"}
    with engine.connect() as conn:
        persons = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
        per_person = (
            conn.execute(
                text("SELECT count(DISTINCT programme_id) FROM source_record GROUP BY person_id")
            )
            .scalars()
            .all()
        )
    assert persons == len(national_ids)
    assert set(per_person) == {2}
    first = [r.person_id for r in answers["SEL85"].answer.results]
    second = [r.person_id for r in answers["SEL104"].answer.results]
    assert first == second
