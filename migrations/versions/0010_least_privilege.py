"""Least privilege: the application role's grants; partition upkeep that leaves no hole.

Revision ID: 0010
Revises: 0009

The API and the CLI's work connect as `registry_app` (registry/core/roles.py creates it and
`registry_owner`, which runs this migration and owns every object). Its privileges are set by
one rule, `registry_grant_app_privileges()`, which `registry.core.migrate.upgrade_to_head` applies
again after every upgrade, so a table a later migration adds is covered by it:

* tables of `public` whose name starts with `audit_`, or that carry a
  `registry_refuse_change()` trigger (append-only: the audit trail, record versions,
  rectifications): SELECT and INSERT only;
* `alembic_version`: SELECT; every other table: SELECT, INSERT, UPDATE, DELETE;
* never TRUNCATE, REFERENCES or TRIGGER; USAGE and SELECT on the sequences; no CREATE on
  any schema, no privilege at all on `registry_partitions` (rows reach the partitions through
  their parent, whose privileges are the ones checked); CONNECT and TEMPORARY on the database.

Until the rule runs, default privileges give a new table SELECT and INSERT only. The
partition functions (DDL) are the owner's: EXECUTE is revoked from PUBLIC.

`registry_ensure_partitions` now creates the months from the one after the newest month
partition up to `months_ahead` ahead: upkeep that lapsed for a while leaves no hole, and a
month missing before the newest (a dropped partition) stays missing, as evidence, instead of
being re-created empty. The months missing between the oldest partition and now (months 0006
skipped for having no rows) are created once here. From here on the month partitions of a
table are contiguous, and `registry audit verify` names a month missing among them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "registry_app"
SCHEMA = "registry_partitions"

#: The roles are created by `registry db roles` (or the embedded server, or the test
#: harness); a superuser running this migration creates the app role itself, without login.
ENSURE_APP_ROLE = f"""
DO $$
BEGIN
    IF to_regrole('{APP}') IS NULL THEN
        BEGIN
            CREATE ROLE {APP} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'role {APP} does not exist: run `registry db roles` as a superuser';
        END;
    END IF;
END
$$
"""

#: The month partitions of a partitioned table, by the lower bound of each (UTC month).
PARTITION_MONTHS = """
CREATE OR REPLACE FUNCTION registry_partition_months(parent regclass)
RETURNS SETOF date LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT CAST(date_trunc('month', CAST((regexp_match(pg_get_expr(c.relpartbound, c.oid),
                'FROM \\(''([^'']+)''\\)'))[1] AS timestamptz) AT TIME ZONE 'UTC') AS date)
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent AND NOT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
$$
"""

ENSURE = f"""
CREATE OR REPLACE FUNCTION registry_ensure_partitions(months_ahead integer DEFAULT 3)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    this_month date := CAST(date_trunc('month', now() AT TIME ZONE 'UTC') AS date);
    last_month date := CAST(this_month + make_interval(months => months_ahead) AS date);
    first_month date;
    created integer := 0;
BEGIN
    FOR parent IN
        SELECT c.relname FROM pg_partitioned_table t
        JOIN pg_class c ON c.oid = t.partrelid
        WHERE c.relnamespace = 'public'::regnamespace
          AND to_regclass(format('{SCHEMA}.%I', c.relname || '_default')) IS NOT NULL
        ORDER BY c.relname
    LOOP
        -- after the newest month partition only: a month missing before it stays missing
        SELECT CAST(max(m) + interval '1 month' AS date) INTO first_month
        FROM registry_partition_months(format('public.%I', parent)::regclass) m;
        first_month := coalesce(first_month, this_month);
        IF first_month <= last_month THEN
            created := created + registry_create_month_partitions(
                parent, first_month,
                (extract(year FROM age(last_month, first_month)) * 12
                 + extract(month FROM age(last_month, first_month)))::int + 1);
        END IF;
    END LOOP;
    RETURN created;
END
$$
"""

#: 0006's version, restored by the downgrade.
ENSURE_0006 = f"""
CREATE OR REPLACE FUNCTION registry_ensure_partitions(months_ahead integer DEFAULT 3)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    created integer := 0;
BEGIN
    FOR parent IN
        SELECT c.relname FROM pg_partitioned_table t
        JOIN pg_class c ON c.oid = t.partrelid
        WHERE c.relnamespace = 'public'::regnamespace
          AND to_regclass(format('{SCHEMA}.%I', c.relname || '_default')) IS NOT NULL
        ORDER BY c.relname
    LOOP
        created := created + registry_create_month_partitions(
            parent, (now() AT TIME ZONE 'UTC')::date, months_ahead + 1);
    END LOOP;
    RETURN created;
END
$$
"""

#: Once: the months between each table's oldest month partition and this month.
FILL_HOLES = """
SELECT registry_create_month_partitions(
    c.relname, oldest,
    (extract(year FROM age(this_month, oldest)) * 12
     + extract(month FROM age(this_month, oldest)))::int + 1)
FROM pg_partitioned_table t
JOIN pg_class c ON c.oid = t.partrelid
CROSS JOIN LATERAL (
    SELECT min(m) AS oldest,
           CAST(date_trunc('month', now() AT TIME ZONE 'UTC') AS date) AS this_month
    FROM registry_partition_months(c.oid) m
) months
WHERE c.relnamespace = 'public'::regnamespace AND oldest < this_month
"""

#: The rule (see the module docstring). Extend it here, in a later migration, if need be.
GRANT_APP = f"""
CREATE OR REPLACE FUNCTION registry_grant_app_privileges()
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    item record;
    privileges text;
    tables integer := 0;
BEGIN
    IF to_regrole('{APP}') IS NULL THEN
        RAISE EXCEPTION 'role {APP} does not exist: run `registry db roles` as a superuser';
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {APP}', current_database());
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    GRANT USAGE ON SCHEMA public TO {APP};
    REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC;
    FOR item IN
        SELECT c.oid::regclass AS name, c.relname,
               EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid
                       AND g.tgfoid = 'registry_refuse_change()'::regprocedure) AS append_only
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND NOT c.relispartition
    LOOP
        privileges := CASE
            WHEN item.relname = 'alembic_version' THEN 'SELECT'
            WHEN item.relname LIKE 'audit\\_%' OR item.append_only THEN 'SELECT, INSERT'
            ELSE 'SELECT, INSERT, UPDATE, DELETE' END;
        EXECUTE format('REVOKE ALL ON %s FROM {APP}', item.name);
        EXECUTE format('GRANT %s ON %s TO {APP}', privileges, item.name);
        tables := tables + 1;
    END LOOP;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP};
    RETURN tables;
END
$$
"""

#: DDL functions: the owner's alone (PUBLIC may execute a new function by default).
OWNER_ONLY = (
    "registry_ensure_partitions(integer)",
    "registry_create_month_partitions(text, date, integer)",
    "registry_create_default_partition(text)",
    "registry_grant_app_privileges()",
)


def upgrade() -> None:
    op.execute(ENSURE_APP_ROLE)
    op.execute(PARTITION_MONTHS)
    op.execute(ENSURE)
    op.execute(FILL_HOLES)
    op.execute(GRANT_APP)
    for signature in OWNER_ONLY:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {APP}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP}"
    )
    op.execute("SELECT registry_grant_app_privileges()")


def downgrade() -> None:
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT ON TABLES FROM {APP}"
    )
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP}")
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {APP}")
    for signature in OWNER_ONLY[:3]:
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO PUBLIC")
    op.execute("DROP FUNCTION IF EXISTS registry_grant_app_privileges()")
    op.execute(ENSURE_0006)
    op.execute("DROP FUNCTION IF EXISTS registry_partition_months(regclass)")
