"""A one-record batch takes the pandas-free path: the same links, scores and reviews."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from linkage import default_model
from registry.core.db import session_factory, transaction
from registry.core.settings import Settings
from registry.demo.loader import register_programmes
from registry.demo.population import Noise, demo_programmes, generate_feeds, generate_persons
from registry.ingest.service import ingest_batch
from registry.matching import incremental
from registry.matching.store import save_model
from registry.programmes.service import get_programme


def _push(
    session: Session, settings: Settings, code: str, batch_id: str, records: list[Any]
) -> Any:
    return ingest_batch(
        session,
        programme=get_programme(session, code),
        batch_id=batch_id,
        records=records,
        submitted_by="test",
        settings=settings,
    ).answer.as_json()


def _outcome(session: Session, settings: Settings, code: str, record: dict[str, Any]) -> Any:
    """The answer, the stored link and the queued reviews of one record (rolled back after)."""
    result = _push(session, settings, code, "one", [record])["results"][0]
    new = result.get("method") == "new"
    stored = session.execute(
        text(
            "SELECT r.link_method, r.link_score, r.link_weights, "
            "CASE WHEN :new THEN NULL ELSE r.person_id::text END "
            "FROM source_record r JOIN programme p ON p.id = r.programme_id "
            "WHERE p.code = :code AND r.source_id = :sid"
        ),
        {"code": code, "sid": record["source_id"], "new": new},
    ).one()
    reviews = session.execute(
        text(
            "SELECT c.reason, c.score, c.weights, c.candidate_record_id, "
            "c.candidate_person_id::text FROM match_candidate c "
            "JOIN source_record r ON r.id = c.source_record_id WHERE r.source_id = :sid "
            "ORDER BY c.reason, c.candidate_record_id"
        ),
        {"sid": record["source_id"]},
    ).all()
    if new:
        result["person_id"] = None
    session.rollback()
    return result, tuple(stored), [tuple(r) for r in reviews]


@pytest.fixture
def registry(engine: Engine, settings: Settings) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """A registry of noisy demo records (pushed in batches), and held-out records to push."""
    programmes = demo_programmes()
    with transaction(engine) as session:
        register_programmes(session, programmes)
    persons = generate_persons(400, seed=5)
    feeds = generate_feeds(persons, programmes, Noise.demo(), seed=5)
    held: list[tuple[str, dict[str, Any]]] = []
    variants: list[tuple[str, dict[str, Any]]] = []
    ids = [r["national_id"] for rs in feeds.records.values() for r in rs if r.get("national_id")]
    for code, records in feeds.records.items():
        held += [(code, r) for r in records[::6][:40]]
        kept = [r for i, r in enumerate(records) if i % 6]
        with transaction(engine) as session:
            _push(session, settings, code, "base", kept)
        for i, r in enumerate(kept[:40]):
            # the same person, altered: no ID or another person's, typos, a moved birth day,
            # another municipality, no mother's name
            given, family = r.get("given_name") or "x", r.get("family_name") or "y"
            variants.append(
                (
                    code,
                    {
                        **r,
                        "source_id": f"V{i}-{r['source_id']}",
                        "national_id": ids[-1 - i] if i % 3 == 0 else None,
                        "given_name": given[:-1] + "e" if i % 2 else given,
                        "family_name": family[:-2] + "x" if i % 7 in (1, 4) else family,
                        "birth_date": r["birth_date"][:8] + "28" if i % 4 == 1 else r["birth_date"],
                        "municipality": "999" if i % 5 in (1, 2) else r.get("municipality"),
                        "mother_name": None if i % 3 == 1 else r.get("mother_name"),
                    },
                )
            )
    with transaction(engine) as session:
        # a stored model with a wide review band, so that uncertain matches are queued too
        model = default_model()
        model.upper, model.lower = 14.0, 4.0
        save_model(session, model, pairs_used=0, created_by="test")
    yield held + variants


def test_one_record_path_equals_the_frame_path(
    engine: Engine,
    settings: Settings,
    registry: list[tuple[str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = registry
    with session_factory(engine)() as session:
        fast = [_outcome(session, settings, code, r) for code, r in records]
    called: list[int] = []

    def by_frames(session: Session, settings: Settings, row: Any, model: Any) -> Any:
        called.append(1)
        return incremental._resolve_batch(session, settings, [row], model)

    monkeypatch.setattr(incremental, "_resolve_one", by_frames)
    with session_factory(engine)() as session:
        frames = [_outcome(session, settings, code, r) for code, r in records]
    assert called  # the frame path did run
    assert fast == frames
    # the sample covers probabilistic links with explanations and new persons
    methods = {result.get("method") for result, _, _ in fast}
    assert {"probabilistic", "new"} <= methods
    assert any(stored[2] for _, stored, _ in fast)
    reasons = {review[0] for _, _, reviews in fast for review in reviews}
    assert {"uncertain", "national_id_conflict"} <= reasons
