"""The schema as Alembic builds it, on the real server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from registry.core.migrate import current_revision, head_revision


def test_migrations_reach_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()


def test_roles_are_seeded_and_unknown_roles_refused(engine: Engine) -> None:
    with engine.connect() as conn:
        roles = set(conn.execute(text("SELECT name FROM role")).scalars())
    assert roles == {"admin", "feed", "oversight", "steward", "auditor", "analyst"}
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO app_user (username, password_hash, roles) VALUES ('x', 'h', :r)"),
            {"r": ["superuser"]},
        )


def test_readyz_reports_database_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["revision"] == head_revision()


def test_server_is_a_supported_postgresql(engine: Engine) -> None:
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
    print(f"PostgreSQL server_version_num={version}")
    assert int(version) >= 150000


def test_models_and_migrations_agree(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from registry.models import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
