"""The person summary: the same answers as the episodes, never used while a person is dirty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.access.principal import Principal
from registry.core.db import transaction
from registry.core.settings import Settings
from registry.overview import service
from registry.overview.summary import is_current, refresh_summary
from tests.factories import bearer
from tests.overview.conftest import P2, Registry, episode, push

OVERSIGHT = Principal("user:t", "t", frozenset({"oversight"}), frozenset({"*"}))
DATES = [
    date.fromisoformat(d)
    for d in (
        "2022-12-31",
        "2023-01-01",
        "2024-01-01",
        "2024-03-01",
        "2024-06-30",
        "2024-07-01",
        "2024-12-31",
        "2025-01-01",
    )
]
JUNE = date(2024, 6, 30)


def answers(engine: Engine) -> list[Any]:
    """Coverage (programme; programme x region) and overlaps on every boundary date."""
    out = []
    with transaction(engine) as session:
        for day in DATES:
            for by in ("programme", "programme,region", "region,programme"):
                out.append(service.coverage(session, OVERSIGHT, day, by))
            out.append(service.overlaps(session, OVERSIGHT, day))
    return out


def refresh(engine: Engine) -> int:
    with transaction(engine) as session:
        return refresh_summary(session)


def test_summary_answers_equal_the_episodes(registry: Registry, engine: Engine) -> None:
    with transaction(engine) as session:
        assert is_current(session)  # ingest refreshed every person it touched
    from_summary = answers(engine)
    with engine.begin() as conn:  # as if every person had changed since
        conn.execute(text("INSERT INTO overview_dirty (person_id) SELECT id FROM person"))
    with transaction(engine) as session:
        assert not is_current(session)
    from_episodes = answers(engine)
    assert from_episodes == from_summary
    assert refresh(engine) > 0
    with transaction(engine) as session:
        assert is_current(session)
        assert session.execute(text("SELECT count(*) FROM overview_spell")).scalar_one() > 0
    assert answers(engine) == from_episodes
    assert refresh(engine) == 0
    # the answers above did come from the summary: emptied, it answers nothing
    with transaction(engine) as session:
        session.execute(text("DELETE FROM overview_spell"))
        got = service.coverage(session, OVERSIGHT, JUNE, "programme,region")
        assert got.rows == []
        session.rollback()


def test_a_change_after_the_refresh_is_never_answered_from_stale_rows(
    client: TestClient, registry: Registry, engine: Engine
) -> None:
    refresh(engine)
    # a new SEL104 episode for P2's twin (no national ID: a new person), then a merge
    twin = episode(
        "B2-dup",
        benefit="1.1",
        start="2024-02-01",
        end=None,
        region="1085",
        **{**P2, "national_id": None},
    )
    twin.update(given_name="Mogens", family_name="Hald", mother_name=None)
    answer = push(client, registry.setup.sel104, "SEL104", "c9", [twin])
    fresh = answers(engine)
    with transaction(engine) as session:
        got = service.coverage(session, OVERSIGHT, JUNE, "programme")
    assert {r.programme: r.persons for r in got.rows}["SEL104"] == 3
    refresh(engine)
    assert answers(engine) == fresh
    with engine.begin() as conn:
        survivor = conn.execute(
            text("SELECT person_id FROM source_record WHERE source_id = 'B2'")
        ).scalar_one()
        conn.execute(
            text("UPDATE person SET status = 'merged', merged_into = :s WHERE id = :d"),
            {"s": survivor, "d": answer["results"][0]["person_id"]},
        )
    merged = answers(engine)
    refresh(engine)
    assert answers(engine) == merged
    with transaction(engine) as session:
        got = service.coverage(session, OVERSIGHT, JUNE, "programme")
    assert {r.programme: (r.persons, r.enrolments) for r in got.rows}["SEL104"] == (
        2,
        3,
    )


@pytest.fixture
def client_k2(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine, settings.model_copy(update={"suppression_k": 2}))) as c:
        yield c


def test_suppression_threshold_is_a_setting(client_k2: TestClient, registry: Registry) -> None:
    body = client_k2.get(
        "/api/v1/overview/coverage",
        params={"as_of": "2024-06-30", "by": "programme"},
        headers=bearer(registry.setup.analyst),
    ).json()
    # k = 2: SEL104 2 and SEL85 3 are shown (with k = 5 both are hidden)
    assert body["rows"] == [
        {"programme": "SEL104", "persons": 2, "enrolments": 2, "suspended": 0, "pending": 0},
        {"programme": "SEL85", "persons": 3, "enrolments": 4, "suspended": 0, "pending": 0},
    ]
    early = client_k2.get(
        "/api/v1/overview/coverage",
        params={"as_of": "2023-06-30", "by": "programme"},
        headers=bearer(registry.setup.analyst),
    ).json()
    assert early["rows"] == [
        {"programme": "SEL85", "persons": None, "enrolments": None, "suspended": 0, "pending": 0}
    ]


def test_settings_read_the_threshold_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SUPPRESSION_K", "11")
    assert Settings().suppression_k == 11
    monkeypatch.setenv("REGISTRY_SUPPRESSION_K", "0")
    with pytest.raises(ValueError):
        Settings()
