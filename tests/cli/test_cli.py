"""The `registry` command against the test database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from registry.cli import app
from registry.db import get_engine
from registry.settings import get_settings


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
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


def test_users_create_bootstraps_an_admin_who_can_log_in(
    cli_env: None, engine: object, client: TestClient
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["users", "create", "--username", "first-admin", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created user first-admin" in result.output
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "first-admin",
            "password": "a long enough password",
        },
    )
    assert token.status_code == 200


def test_users_create_refuses_a_short_password(cli_env: None, engine: object) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "create", "--username", "weak", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_is_idempotent(cli_env: None, engine: object) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and "database at head" in result.output
