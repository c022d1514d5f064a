"""The registry's two database roles: the owner (schema, migrations, upkeep) and the app.

`registry_owner` owns every schema object; migrations and partition upkeep run as it.
`registry_app` is what the API and the CLI's work connect as: no superuser, no DDL (it owns
nothing and may not create in any schema), SELECT/INSERT/UPDATE/DELETE on ordinary tables,
only SELECT and INSERT on the append-only ones (the audit trail, record versions,
rectifications), never TRUNCATE; it cannot set `session_replication_role` (superuser only).
The grants themselves are the SQL function `registry_grant_app_privileges()` of migration
0010, applied again after every upgrade (`registry.core.migrate.upgrade_to_head`).

`bootstrap` (a superuser's one-off: `registry db roles`, the embedded server and the test
harness call it) creates both roles if missing and hands the database to the owner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

OWNER_ROLE = "registry_owner"
APP_ROLE = "registry_app"
#: Schemas whose objects the owner must own (adopted from whoever created them before).
OWNED_SCHEMAS = ("public", "registry_partitions")

_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


@dataclass(frozen=True)
class RoleUrls:
    """Connection URLs of one registry database: as its owner, and as the application."""

    owner: str
    app: str


def role_url(url: str, role: str, password: str | None = None) -> str:
    """The same server and database as `url`, as another role (password kept unless given)."""
    parsed = make_url(url).set(username=role)
    if password is not None:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def derived_urls(superuser_url: str, database: str) -> RoleUrls:
    """The roles' URLs on a server that trusts local connections (embedded, test clusters)."""
    url = make_url(superuser_url).set(database=database).render_as_string(hide_password=False)
    return RoleUrls(owner=role_url(url, OWNER_ROLE), app=role_url(url, APP_ROLE))


def _quoted(conn: Connection, template: str, *values: str) -> str:
    """A utility statement with identifiers/literals quoted by the server (`format`)."""
    args = ", ".join(f":v{i}" for i in range(len(values)))
    params = {f"v{i}": v for i, v in enumerate(values)}
    return str(conn.execute(text(f"SELECT format('{template}', {args})"), params).scalar_one())


def _ensure_role(conn: Connection, role: str, password: str | None) -> None:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    verb = "ALTER" if exists else "CREATE"
    inherit = " NOINHERIT" if role == APP_ROLE else ""
    conn.execute(text(_quoted(conn, f"{verb} ROLE %I {_ROLE_OPTIONS}{inherit}", role)))
    if password:
        conn.execute(text(_quoted(conn, "ALTER ROLE %I PASSWORD %L", role, password)))


#: Hand every object of the registry's schemas to the owner (an older database, or one a
#: superuser migrated, has them owned by that superuser). Sequences owned by a column follow
#: their table; partitions are handed over one by one.
ADOPT = f"""
DO $$
DECLARE
    item record;
BEGIN
    IF to_regnamespace('registry_partitions') IS NOT NULL THEN
        EXECUTE 'ALTER SCHEMA registry_partitions OWNER TO {OWNER_ROLE}';
    END IF;
    FOR item IN
        SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'registry_partitions') AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relowner <> '{OWNER_ROLE}'::regrole
        ORDER BY c.relispartition, c.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {OWNER_ROLE}',
                       CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                         ELSE 'TABLE' END, item.name);
    END LOOP;
    FOR item IN
        SELECT c.oid::regclass AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'registry_partitions') AND c.relkind = 'S'
          AND c.relowner <> '{OWNER_ROLE}'::regrole
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO {OWNER_ROLE}', item.name);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '{OWNER_ROLE}'::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {OWNER_ROLE}', item.name);
    END LOOP;
    FOR item IN
        SELECT t.oid::regtype AS name FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
          AND t.typowner <> '{OWNER_ROLE}'::regrole
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO {OWNER_ROLE}', item.name);
    END LOOP;
END
$$
"""


def bootstrap(
    superuser_url: str,
    database: str,
    *,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> None:
    """As a superuser: create (or correct) both roles, and give the database to the owner.

    Idempotent. The database is created when missing; an existing one, and the objects in
    it, are handed to the owner. PUBLIC loses its default CONNECT and TEMPORARY on it; the
    app role gets both (ingest and the overview refresh stage rows in temporary tables).
    """
    admin = create_engine(
        make_url(superuser_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            _ensure_role(conn, OWNER_ROLE, owner_password)
            _ensure_role(conn, APP_ROLE, app_password)
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ).scalar()
            verb = "ALTER DATABASE %I OWNER TO %I" if found else "CREATE DATABASE %I OWNER %I"
            conn.execute(text(_quoted(conn, verb, database, OWNER_ROLE)))
            conn.execute(text(_quoted(conn, "REVOKE ALL ON DATABASE %I FROM PUBLIC", database)))
            conn.execute(
                text(
                    _quoted(
                        conn, "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I", database, APP_ROLE
                    )
                )
            )
    finally:
        admin.dispose()
    inside = create_engine(make_url(superuser_url).set(database=database))
    try:
        with inside.begin() as conn:
            conn.execute(text(ADOPT))
            grant = conn.execute(text("SELECT to_regproc('registry_grant_app_privileges')"))
            if grant.scalar() is not None:
                conn.execute(text(f"SET LOCAL ROLE {OWNER_ROLE}"))
                conn.execute(text("SELECT registry_grant_app_privileges()"))
    finally:
        inside.dispose()
    logger.info("roles %s and %s ready on database %s", OWNER_ROLE, APP_ROLE, database)


def bootstrap_from_urls(superuser_url: str, owner_url: str, app_url: str) -> None:
    """`bootstrap` for the roles, passwords and database that the two URLs name."""
    owner, app = make_url(owner_url), make_url(app_url)
    for url, role, name in ((owner, OWNER_ROLE, "owner"), (app, APP_ROLE, "application")):
        if url.username != role:
            raise ValueError(f"the {name} URL must connect as {role}, not {url.username!r}")
    if owner.database != app.database or not app.database:
        raise ValueError("the owner and application URLs must name the same database")
    bootstrap(superuser_url, app.database, owner_password=owner.password, app_password=app.password)


def serving_role_problem(conn: Connection) -> str | None:
    """Why the connected role must not serve (it could rewrite the trail), or None."""
    row = conn.execute(
        text(
            "SELECT current_user, rolsuper, CASE WHEN to_regclass('public.audit_event') IS NULL "
            "THEN false ELSE has_table_privilege('public.audit_event', 'UPDATE, DELETE, TRUNCATE')"
            " END FROM pg_roles WHERE rolname = current_user"
        )
    ).one()
    user, superuser, rewrite = row
    if superuser:
        return f"the database role {user!r} is a superuser"
    if rewrite:
        return f"the database role {user!r} may update, delete or truncate the audit trail"
    return None
