"""Schema migrations through Alembic: the only way the schema changes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.orm import Session

from registry.core.partitions import ensure_partitions

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    return config


#: The application role's privileges, by rule (migration 0010), when the caller may grant.
_GRANT_APP = """
SELECT registry_grant_app_privileges() FROM (SELECT to_regprocedure(
    'registry_grant_app_privileges()') AS grant_app) f
WHERE grant_app IS NOT NULL AND has_function_privilege(grant_app, 'EXECUTE')
"""


def upgrade_to_head(url: str) -> None:
    """Apply every pending migration, then the application role's grants (run as the owner).

    The grants are applied after every upgrade, so a table a later migration adds gets the
    application role's privileges by the rule of `registry_grant_app_privileges()`.
    """
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(_GRANT_APP))
    finally:
        engine.dispose()


def prepare_database(owner_url: str) -> int:
    """As the owner: migrate to head and create the coming months' partitions (how many)."""
    upgrade_to_head(owner_url)
    engine = create_engine(owner_url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session, session.begin():
            return ensure_partitions(session)
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
