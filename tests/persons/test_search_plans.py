"""The person search's statements on the plan registry (tests/plans): no sequential scan.

The same machinery as tests/plans/test_query_plans.py (its registry of 60,000 persons, its
EXPLAIN capture and check), run over the search by national ID and by name, national and
regional, with the region and programme filters.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from linkage import default_model
from registry.persons import search
from registry.persons.search import NameQuery, SearchFilters, search_by_name, search_by_national_id
from tests.plans.conftest import fresh_database  # noqa: F401  (the fixture, shared)
from tests.plans.explain import capturing, constant_names
from tests.plans.test_query_plans import (  # noqa: F401  (the registry fixture, shared)
    OVERSIGHT,
    REGIONAL,
    Registry,
    Scenario,
    _check,
    registry,
)

NAMES = constant_names(search)
MODEL = default_model()


def _by_id(session: Session, reg: Registry, principal: Any, filters: SearchFilters) -> Any:
    return search_by_national_id(
        session,
        principal,
        str(reg.population.national_id(4241)),
        scheme=reg.settings.national_id_scheme,
        key=reg.settings.secret("national_id_key").encode(),
        filters=filters,
    )


def _by_name(session: Session, reg: Registry, principal: Any, filters: SearchFilters) -> Any:
    truth = reg.population.profile_of(4242)
    query = NameQuery(
        given_name=truth.given_name,
        family_name=(truth.family_name or "x") + "e",
        birth_date=truth.birth_date,
    )
    return search_by_name(
        session,
        principal,
        query,
        model=MODEL,
        max_block=reg.settings.linkage_max_block,
        filters=filters,
    )


def _both_names(session: Session, reg: Registry, principal: Any, filters: SearchFilters) -> Any:
    truth = reg.population.profile_of(77)
    query = NameQuery(given_name=truth.given_name, family_name=truth.family_name)
    return search_by_name(
        session,
        principal,
        query,
        model=MODEL,
        max_block=reg.settings.linkage_max_block,
        filters=filters,
    )


PLAIN = SearchFilters()
FILTERED = SearchFilters(region="1084", programme="SEL85", limit=5)

SEARCHES = [
    Scenario("search: by national ID", lambda s, r: _by_id(s, r, OVERSIGHT, PLAIN)),
    Scenario(
        "search: by national ID, regional, filtered", lambda s, r: _by_id(s, r, REGIONAL, FILTERED)
    ),
    Scenario("search: by name and birth date", lambda s, r: _by_name(s, r, OVERSIGHT, PLAIN)),
    Scenario(
        "search: by name and birth date, regional, filtered",
        lambda s, r: _by_name(s, r, REGIONAL, FILTERED),
    ),
    Scenario("search: both names, no birth date", lambda s, r: _both_names(s, r, REGIONAL, PLAIN)),
]


@pytest.mark.parametrize("scenario", SEARCHES, ids=[s.name for s in SEARCHES])
def test_search_plans_avoid_seq_scans(registry: Registry, scenario: Scenario) -> None:  # noqa: F811
    with registry.session() as session, capturing(registry.engine, scenario.name, NAMES) as capture:
        scenario.run(session, registry)
    assert capture.planned, f"{scenario.name}: no statement was captured"
    failures = _check(capture, registry, scenario)
    assert not failures, f"{scenario.name}:\n\n" + "\n\n".join(failures)
