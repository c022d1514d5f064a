"""Test harness: one real PostgreSQL per run, schema built by `alembic upgrade head`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from registry.db import get_engine, make_engine
from registry.migrate import upgrade_to_head
from registry.settings import Settings, get_settings
from tests.postgres import test_postgres

#: Cheap Argon2 for the hundreds of logins a run makes (read lazily, inherited by servers).
os.environ.setdefault("REGISTRY_ARGON2_PROFILE", "test")

KEEP_TABLES = {"alembic_version", "role"}


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database on the run's PostgreSQL, migrated to head."""
    with test_postgres() as server_url:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS registry_test"))
            conn.execute(text("CREATE DATABASE registry_test"))
        admin.dispose()
        url = make_url(server_url).set(database="registry_test").render_as_string(False)
        upgrade_to_head(url)
        yield url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Explicit test settings: no generated secrets, no embedded server."""
    return Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("data"),
        jwt_secret="test-signing-secret-" + "x" * 32,
        national_id_key="test-national-id-key-" + "y" * 32,
    )


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every data table before each test that uses the database."""
    if "engine" not in request.fixturenames:
        yield
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        names = [t for t in tables if t not in KEEP_TABLES]
        if names:
            # replica mode skips triggers, so the append-only audit table can be emptied here
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine, settings)) as test_client:
        yield test_client


def pytest_report_header() -> str:
    return f"registry test PostgreSQL: {os.environ.get('REGISTRY_TEST_PG', 'embedded')}"


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Environment for CLI commands: the test database and explicit secrets."""
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_ENV", "test")
    monkeypatch.setenv("REGISTRY_JWT_SECRET", "test-signing-secret-" + "x" * 32)
    monkeypatch.setenv("REGISTRY_NATIONAL_ID_KEY", "test-national-id-key-" + "y" * 32)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
