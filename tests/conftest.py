"""Test harness: one real PostgreSQL per run, schema built by `alembic upgrade head`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from registry.codelists.defaults import seed_defaults
from registry.core.db import get_engine, make_engine
from registry.core.migrate import upgrade_to_head
from registry.core.roles import APP_ROLE, RoleUrls, bootstrap, derived_urls
from registry.core.settings import Settings, get_settings
from tests.postgres import test_postgres

#: Cheap Argon2 for the hundreds of logins a run makes (read lazily, inherited by servers).
os.environ.setdefault("REGISTRY_ARGON2_PROFILE", "test")

KEEP_TABLES = {"alembic_version", "role"}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The run's PostgreSQL as its superuser (database `postgres`): for creating databases."""
    with test_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def role_urls(server_url: str) -> RoleUrls:
    """A fresh registry_test owned by registry_owner, migrated to head as the owner."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_test WITH (FORCE)"))
    admin.dispose()
    password = make_url(server_url).password or None
    bootstrap(server_url, "registry_test", owner_password=password, app_password=password)
    urls = derived_urls(server_url, "registry_test")
    upgrade_to_head(urls.owner)
    return urls


@pytest.fixture(scope="session")
def database_url(role_urls: RoleUrls) -> str:
    """The test database as the application role, registry_app: what the app connects as."""
    return role_urls.app


@pytest.fixture(scope="session")
def owner_url(role_urls: RoleUrls) -> str:
    """The test database as its owner (migrations, partition upkeep, backups)."""
    return role_urls.owner


@pytest.fixture(scope="session")
def superuser_url(server_url: str, role_urls: RoleUrls) -> str:
    """The test database as the server's superuser (tampering, emptying the trail)."""
    return make_url(server_url).set(database="registry_test").render_as_string(False)


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
    """The application role's engine, as the API and the CLI connect."""
    engine = make_engine(database_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def owner_engine(owner_url: str) -> Iterator[Engine]:
    """The owner's engine: only for tests about the owner's work (DDL, upkeep)."""
    engine = make_engine(owner_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def superuser_engine(superuser_url: str) -> Iterator[Engine]:
    """A superuser's engine: only for tests that tamper past the triggers, and for cleaning."""
    engine = make_engine(superuser_url, pool_size=2)
    yield engine
    engine.dispose()


DATABASE_FIXTURES = {"engine", "owner_engine", "superuser_engine"}


@pytest.fixture(autouse=True)
def clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every data table before each test that uses the database (as a superuser)."""
    if not DATABASE_FIXTURES & set(request.fixturenames):
        yield
        return
    engine: Engine = request.getfixturevalue("engine")
    if engine.url.username == APP_ROLE:
        # the suite's database: its app role may not empty the trail, the superuser may (a
        # module with a server of its own, as tests/replica, connects as that superuser)
        engine = request.getfixturevalue("superuser_engine")
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        names = [t for t in tables if t not in KEEP_TABLES]
        if names:
            # replica mode skips triggers, so the append-only audit table can be emptied here
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        if "code_list" in names:
            seed_defaults(conn)  # as a freshly migrated database holds them
    yield


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine, settings)) as test_client:
        yield test_client


def pytest_report_header() -> str:
    return f"registry test PostgreSQL: {os.environ.get('REGISTRY_TEST_PG', 'embedded')}"


@pytest.fixture
def cli_env(database_url: str, owner_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Environment for CLI commands: the test database (app role and owner), explicit secrets."""
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_OWNER_DATABASE_URL", owner_url)
    monkeypatch.setenv("REGISTRY_ENV", "test")
    monkeypatch.setenv("REGISTRY_JWT_SECRET", "test-signing-secret-" + "x" * 32)
    monkeypatch.setenv("REGISTRY_NATIONAL_ID_KEY", "test-national-id-key-" + "y" * 32)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
