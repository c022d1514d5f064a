"""Alembic environment: the URL comes from the caller (config attribute) or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from registry.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from registry.core.db import resolve_database_url, resolve_owner_url
    from registry.core.settings import get_settings

    settings = get_settings()  # migrations are the owner's (registry/core/roles.py)
    return resolve_owner_url(settings) or resolve_database_url(settings)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
