"""The one database engine every command works with."""

from __future__ import annotations

from sqlalchemy import Engine

from registry.core.settings import get_settings


def ready_engine() -> Engine:
    """The application role's engine; first, as the owner when known, migrate and upkeep.

    The owner is REGISTRY_OWNER_DATABASE_URL, or the embedded server's owner role; with only
    REGISTRY_DATABASE_URL set, nothing is migrated here (`registry db upgrade` does it).
    """
    from registry.core.db import get_engine, resolve_owner_url
    from registry.core.migrate import prepare_database

    owner = resolve_owner_url(get_settings())
    if owner is not None:  # monthly partitions ahead (audit, record versions) too
        prepare_database(owner)
    return get_engine()
