"""Plan and schema checks run in databases of their own, next to the suite's registry_test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

FreshDatabase = Callable[[str], str]


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[FreshDatabase]:
    """Create empty databases (by name) on the run's server, as its superuser (who migrates
    and queries them: these tests are about the schema); all dropped at the end."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create(name: str) -> str:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        created.append(name)
        return make_url(server_url).set(database=name).render_as_string(False)

    yield create
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
