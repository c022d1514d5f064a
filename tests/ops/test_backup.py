"""`registry backup` / `registry restore`: a restored registry verifies and answers the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from api.app import create_app
from registry.cli.main import app as cli
from registry.core.db import get_engine, make_engine
from registry.core.roles import bootstrap, derived_urls
from registry.core.settings import Settings, get_settings
from tests.factories import (
    bearer,
    client_token,
    make_client,
    make_programme,
    make_user,
    record,
    user_token,
)


def _answers(engine: Engine, settings: Settings, person_id: str) -> dict[str, Any]:
    """What oversight and auditors see: overview, overlaps, a person, the chain."""
    with TestClient(create_app(engine, settings)) as client:
        make_user(
            engine, f"checker{abs(hash(str(engine.url))) % 1000}", ["oversight", "auditor"], ["*"]
        )
        token = bearer(user_token(client, f"checker{abs(hash(str(engine.url))) % 1000}"))
        query = {"as_of": "2024-06-01", "by": "programme,sex"}
        coverage = client.get("/api/v1/overview/coverage", params=query, headers=token)
        overlaps = client.get(
            "/api/v1/overview/overlaps", params={"as_of": "2024-06-01"}, headers=token
        )
        person = client.get(f"/api/v1/persons/{person_id}", headers=token)
        assert coverage.status_code == overlaps.status_code == person.status_code == 200
        return {"coverage": coverage.json(), "overlaps": overlaps.json(), "person": person.json()}


def test_backup_then_restore_into_a_new_database(
    engine: Engine,
    settings: Settings,
    cli_env: None,
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_programme(engine, "SEL85", ["1.12.0.2"])
    make_programme(engine, "SEL86", ["1.12.0.2"])
    with TestClient(create_app(engine, settings)) as client:
        for code in ("SEL85", "SEL86"):
            token = bearer(client_token(client, *make_client(engine, code)))
            records = [record(f"{code}-{n}", national_id=f"07054049{n:02d}") for n in range(12)]
            answer = client.post(
                f"/api/v1/programmes/{code}/batches",
                json={"batch_id": "b1", "records": records},
                headers=token,
            )
            assert answer.status_code == 200, answer.text
    person_id = answer.json()["results"][0]["person_id"]
    before = _answers(engine, settings, person_id)

    runner = CliRunner()
    dump = tmp_path / "registry.dump"
    done = runner.invoke(cli, ["backup", "--out", str(dump)])
    assert done.exit_code == 0, done.output
    assert dump.stat().st_size > 1000

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_restored"))
    # a new empty database, owned by registry_owner, which restores; the app role reads it
    bootstrap(server_url, "registry_restored")
    restored_urls = derived_urls(server_url, "registry_restored")
    get_engine().dispose()
    monkeypatch.setenv("REGISTRY_DATABASE_URL", restored_urls.app)
    monkeypatch.setenv("REGISTRY_OWNER_DATABASE_URL", restored_urls.owner)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        done = runner.invoke(cli, ["restore", str(dump)])
        assert done.exit_code == 0, done.output
        verified = runner.invoke(cli, ["audit", "verify"])
        assert verified.exit_code == 0, verified.output
        assert "audit chain ok" in verified.output
        restored = make_engine(restored_urls.app, pool_size=1)
        after = _answers(restored, settings, person_id)
        assert after == before
        # the app role's grants came back with the data: it may not delete the trail
        with restored.connect() as conn, pytest.raises(DBAPIError):
            conn.execute(text("DELETE FROM audit_event"))
        restored.dispose()
        refused = runner.invoke(cli, ["restore", str(tmp_path / "missing.dump")])
        assert refused.exit_code == 1
    finally:
        get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS registry_restored WITH (FORCE)"))
        admin.dispose()
