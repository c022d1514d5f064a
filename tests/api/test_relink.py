"""Model training from the registry's own records, and relinking the whole registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from linkage import default_model
from registry.core.db import transaction
from registry.demo.population import Noise, demo_programmes, generate_feeds, generate_persons
from registry.matching.relink import RelinkSummary, apply_relink, plan_relink
from registry.matching.store import active_model
from registry.matching.training import train_and_store
from tests.api.conftest import Setup
from tests.factories import push, record

#: Same person as record("A") on the evidence, but below the default model's review threshold.
WEAK = {
    "national_id": None,
    "birth_date": "1940-08-07",
    "mother_name": None,
    "municipality": "101",
    "region": "1081",
}


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def lenient() -> Any:
    """A model that links on less evidence than the default, to make relink change things."""
    model = default_model()
    model.upper, model.lower = 4.0, 2.0
    return model


def test_training_anchors_m_on_national_id_pairs(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    specs = [replace(s, id_coverage=1.0, share=1.0) for s in demo_programmes()[:2]]
    specs = [replace(s, code=c) for s, c in zip(specs, ("SEL85", "SEL104"), strict=True)]
    persons = generate_persons(300, seed=3)
    feeds = generate_feeds(persons, specs, Noise.demo(), seed=3)
    tokens = {"SEL85": setup.sel85, "SEL104": setup.sel104}
    codes = {"SEL85": "1.12.0.2", "SEL104": "1.1"}
    for code, records in feeds.records.items():
        for r in records:
            r["enrolment"] = {**r["enrolment"], "benefit_code": codes[code]}
        assert push(client, tokens[code], code, "b1", records).status_code == 200
    with transaction(engine) as session:
        result = train_and_store(session, actor="test")
    with transaction(engine) as session:
        model_id, model = active_model(session)
    assert result.method == "id_anchored" and result.id_pairs >= 100, result
    assert model_id == result.model_id
    weights = {f.name: f.weights() for f in model.fields}
    assert weights["birth_date"][-1] > 5  # exact birth date: strong evidence
    assert weights["given_name"][0] < -3  # different given names: strong evidence against
    assert model.meta["source"] == "trained"
    assert scalar(engine, "SELECT count(*) FROM linkage_model WHERE active") == 1


def test_training_refuses_an_empty_registry(engine: Engine) -> None:
    with transaction(engine) as session:
        try:
            train_and_store(session, actor="test")
        except ValueError as exc:
            assert "fewer than two records" in str(exc)
        else:
            raise AssertionError("training an empty registry must fail")


def relink_with(engine: Engine, model: Any, apply: bool = True) -> RelinkSummary:
    with transaction(engine) as session:
        plan = plan_relink(session, model, hold_identities=apply)
        if apply:
            apply_relink(session, plan, actor="test", model_id=None)
        return plan.summary()


def test_relink_reports_then_joins_a_person_the_stricter_model_left_apart(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    weak = record("B", **WEAK)
    second = push(client, setup.sel85, "SEL85", "b2", [weak]).json()["results"][0]
    assert second["person_id"] != first["person_id"]

    dry = relink_with(engine, lenient(), apply=False)
    assert dry.records_moving == 1
    assert scalar(engine, "SELECT count(*) FROM person WHERE status = 'active'") == 2

    relink_with(engine, lenient())
    held = scalar(engine, "SELECT person_id::text FROM source_record WHERE source_id = 'B'")
    assert held == first["person_id"]
    assert (
        scalar(engine, "SELECT count(*) FROM enrolment WHERE person_id = CAST(:p AS uuid)", p=held)
        == 2
    )
    assert (
        scalar(
            engine,
            "SELECT merged_into::text FROM person WHERE id = CAST(:p AS uuid)",
            p=second["person_id"],
        )
        == first["person_id"]
    )
    assert scalar(engine, "SELECT count(*) FROM link_event WHERE kind = 'relink'") == 1
    assert relink_with(engine, lenient()).records_moving == 0  # converged


def test_relink_never_proposes_a_pair_a_steward_refused(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("A")])
    weak = record("B", **WEAK)
    second = push(client, setup.sel85, "SEL85", "b2", [weak]).json()["results"][0]
    assert second["status"] == "created"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO match_candidate (source_record_id, candidate_person_id, reason, "
                "score, weights, status) SELECT r.id, a.person_id, 'uncertain', 5, '{}', "
                "'non_match' FROM source_record r, source_record a "
                "WHERE r.source_id = 'B' AND a.source_id = 'A'"
            )
        )
    assert relink_with(engine, lenient()).records_moving == 0
    held = scalar(engine, "SELECT person_id::text FROM source_record WHERE source_id = 'B'")
    assert held == second["person_id"]


def test_relink_keeps_two_national_ids_apart(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    push(client, setup.sel85, "SEL85", "b1", [record("A")])
    push(client, setup.sel85, "SEL85", "b2", [record("B", national_id="0101404915")])
    push(client, setup.sel85, "SEL85", "b3", [record("C", national_id=None)])
    summary = relink_with(engine, lenient())
    # A and B are not compared (their IDs decide); C links to both: one conflict group.
    assert summary.pairs_scored == 2, summary
    assert summary.id_conflict_groups == 1, summary
    with transaction(engine) as session:
        moves = plan_relink(session, lenient()).moves
    assert summary.records_moving == 0, moves.to_dict("records")
    assert scalar(engine, "SELECT count(DISTINCT person_id) FROM source_record") == 2


def test_relink_reads_only_live_records_and_their_keys(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    first = push(client, setup.sel85, "SEL85", "b1", [record("A")]).json()["results"][0]
    push(client, setup.sel85, "SEL85", "b2", [record("B", **WEAK)])
    push(client, setup.sel85, "SEL85", "b3", [record("C", **WEAK)])
    before = relink_with(engine, lenient(), apply=False)
    assert before.records == 3 and before.pairs_scored == 3, before
    retraction = {"source_id": "C", "retracted": True}
    assert push(client, setup.sel85, "SEL85", "b4", [retraction]).status_code == 200
    summary = relink_with(engine, lenient(), apply=False)
    # C is gone from the relink: two live records, one pair, B moves to A's person.
    assert summary.records == 2 and summary.pairs_scored == 1, summary
    with transaction(engine) as session:
        moves = plan_relink(session, lenient()).moves
    assert moves["to_person"].tolist() == [first["person_id"]]


def test_relink_of_an_empty_registry_changes_nothing(engine: Engine) -> None:
    summary = relink_with(engine, lenient())
    assert summary.records == 0 and summary.pairs_scored == 0
    assert summary.records_moving == 0 and summary.reviews == 0
