"""The search population (tests/persons/population.py) behind the API's test client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.persons.population import People, add_people


@pytest.fixture
def people(client: TestClient, setup: Setup, engine: Engine) -> People:  # noqa: F811
    return add_people(client, setup, engine)
