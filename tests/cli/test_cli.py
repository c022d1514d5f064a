"""The `registry` command against the test database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from registry.cli.main import app


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
