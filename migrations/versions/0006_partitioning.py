"""Partitioning: audit events and source-record versions by month; indexes the plans need.

Revision ID: 0006
Revises: 0005

`audit_event` (on `occurred_at`) and `source_record_version` (on `received_at`) become
range-partitioned by calendar month (UTC). The existing rows are copied into the new
partitioned table, which then takes the old name: column names, the id sequences, the
append-only triggers and every index name stay as they were. Partitions live in the schema
`registry_partitions`, so `public` lists only the logical tables (Alembic's autogenerate,
the test harness and `\\dt` see one table each). A DEFAULT partition per table catches any
row outside the created months, so an insert never fails; `registry_ensure_partitions()`
creates the upcoming months (and moves rows out of the default partition if it ever has to).

PostgreSQL wants every unique constraint of a partitioned table to include the partition key:
the primary keys become (id, time) and `source_record_version`'s unique (record, version)
becomes a plain index. That pair stays unique because the ingest path is its only writer:
it takes the version from `source_record.version + 1` in the same statement that updates the
record row (row lock, and the programme's advisory lock), so two transactions can never hand
out one version of one record. Nothing references either table by foreign key. The
versions' own key to `source_record` is dropped: on Citus they are distributed by record and
records by person (docs/scaling.md, registry/core/distribution.py), so Citus could not keep it.

Also: `ix_enrolment_source_record_id`, which the plan checks (tests/plans) showed missing.

Cost: both tables are copied inside the migration's transaction, holding their locks
(measured here: 260,000 rows, 100 MB, in 4.8 s; plan a maintenance window for a registry with
tens of millions of audit events). The downgrade copies them back the same way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry_partitions"
#: Months created ahead by the migration (the maintenance call keeps three ahead after that).
MONTHS_AHEAD = 12

#: table -> (partition key, primary key, indexes as (name, definition)).
TABLES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "audit_event": (
        "occurred_at",
        "id, occurred_at",
        [
            ("ix_audit_event_action", "(action)"),
            ("ix_audit_event_actor", "(actor)"),
            ("ix_audit_event_person_ids", "USING gin (person_ids)"),
            ("ix_audit_event_occurred_at", "(occurred_at)"),
        ],
    ),
    "source_record_version": (
        "received_at",
        "id, received_at",
        [
            ("ix_source_record_version_feed_batch_id", "(feed_batch_id)"),
            ("ix_source_record_version_record", "(source_record_id, version)"),
        ],
    ),
}

FOREIGN_KEYS = {
    "source_record_version": [
        ("fk_source_record_version_feed_batch_id_feed_batch", "feed_batch_id", "feed_batch"),
    ],
}
#: Dropped by this migration (restored by the downgrade): on Citus, versions are distributed by
#: source_record_id and records by person_id, so the key could not be kept (docs/scaling.md);
#: ingest writes a version only for the record it has just upserted, in the same transaction.
DROPPED_FOREIGN_KEYS = {
    "source_record_version": [
        (
            "fk_source_record_version_source_record_id_source_record",
            "source_record_id",
            "source_record",
        ),
    ],
}

#: The append-only triggers of 0001/0002, recreated on the new tables (row triggers are
#: cloned onto every partition; TRUNCATE triggers are added per partition by the function).
TRIGGERS = {
    "audit_event": [
        ("audit_event_append_only", "BEFORE UPDATE OR DELETE", "ROW"),
        ("audit_event_no_truncate", "BEFORE TRUNCATE", "STATEMENT"),
    ],
    "source_record_version": [
        ("source_record_version_append_only", "BEFORE UPDATE OR DELETE", "ROW"),
    ],
}

#: Create the monthly partitions [first_month, first_month + months) of one table. Rows that
#: already sit in the DEFAULT partition for one of those months are moved: the default is
#: detached, the months and a new default are created, the old default's rows are inserted
#: through the parent (so they land in their month) and the old default is dropped — one
#: transaction, every column copied as it was (the audit chain is untouched).
CREATE_MONTHS = f"""
CREATE OR REPLACE FUNCTION registry_create_month_partitions(
    parent text, first_month date, months integer
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    key text;
    cols text;
    month date;
    wanted date[] := '{{}}';
    spill boolean := false;
    refuse_truncate boolean;
    part text;
BEGIN
    SELECT a.attname INTO key
    FROM pg_partitioned_table t
    JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0]
    WHERE t.partrelid = format('public.%I', parent)::regclass;
    IF key IS NULL THEN
        RAISE EXCEPTION 'public.% is not a partitioned table', parent;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('registry.partitions'));
    FOR i IN 0 .. months - 1 LOOP
        month := make_date(extract(year FROM first_month)::int,
                           extract(month FROM first_month)::int, 1) + make_interval(months => i);
        IF to_regclass(format('{SCHEMA}.%I', parent || to_char(month, '"_p"YYYY"_"MM'))) IS NULL
        THEN
            wanted := wanted || month;
        END IF;
    END LOOP;
    IF cardinality(wanted) = 0 THEN
        RETURN 0;
    END IF;
    FOREACH month IN ARRAY wanted LOOP
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM {SCHEMA}.%I WHERE %I >= %L AND %I < %L)',
            parent || '_default', key, month || ' 00:00:00+00',
            key, (month + interval '1 month')::date || ' 00:00:00+00')
        INTO spill;
        EXIT WHEN spill;
    END LOOP;
    SELECT EXISTS (
        SELECT 1 FROM pg_trigger
        WHERE tgrelid = format('public.%I', parent)::regclass AND (tgtype & 32) <> 0
    ) INTO refuse_truncate;
    IF spill THEN
        EXECUTE format('ALTER TABLE public.%I DETACH PARTITION {SCHEMA}.%I',
                       parent, parent || '_default');
        EXECUTE format('ALTER TABLE {SCHEMA}.%I RENAME TO %I',
                       parent || '_default', parent || '_spill');
    END IF;
    FOREACH month IN ARRAY wanted LOOP
        part := parent || to_char(month, '"_p"YYYY"_"MM');
        EXECUTE format(
            'CREATE TABLE {SCHEMA}.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
            part, parent, month || ' 00:00:00+00',
            (month + interval '1 month')::date || ' 00:00:00+00');
        IF refuse_truncate THEN
            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON {SCHEMA}.%I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION registry_refuse_change()',
                           part || '_no_truncate', part);
        END IF;
    END LOOP;
    IF spill THEN
        PERFORM registry_create_default_partition(parent);
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute
        WHERE attrelid = format('public.%I', parent)::regclass AND attnum > 0
          AND NOT attisdropped;
        EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM {SCHEMA}.%I',
                       parent, cols, cols, parent || '_spill');
        EXECUTE format('DROP TABLE {SCHEMA}.%I', parent || '_spill');
    END IF;
    RETURN cardinality(wanted);
END
$$;
"""

CREATE_DEFAULT = f"""
CREATE OR REPLACE FUNCTION registry_create_default_partition(parent text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE {SCHEMA}.%I PARTITION OF public.%I DEFAULT',
                   parent || '_default', parent);
    IF EXISTS (SELECT 1 FROM pg_trigger
               WHERE tgrelid = format('public.%I', parent)::regclass AND (tgtype & 32) <> 0) THEN
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON {SCHEMA}.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION registry_refuse_change()',
                       parent || '_default_no_truncate', parent || '_default');
    END IF;
END
$$;
"""

#: The maintenance entry point: this month and the next `months_ahead` for every partitioned
#: table of the registry; returns how many partitions it created (0 when all exist).
ENSURE = f"""
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
$$;
"""

FUNCTIONS = (
    "registry_ensure_partitions(integer)",
    "registry_create_month_partitions(text, date, integer)",
    "registry_create_default_partition(text)",
)


def _refuse_references(table: str) -> None:
    """Stop if another table references this one by foreign key (partitioning would break it)."""
    op.execute(
        f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE contype = 'f' AND confrelid = 'public.{table}'::regclass) THEN
        RAISE EXCEPTION 'a foreign key references {table}; partition it by hand';
    END IF;
END
$$
"""
    )


def _add_triggers(table: str) -> None:
    for name, when, level in TRIGGERS[table]:
        op.execute(
            f"CREATE TRIGGER {name} {when} ON {table} "
            f"FOR EACH {level} EXECUTE FUNCTION registry_refuse_change()"
        )


def _partition(table: str) -> None:
    """Copy one table into a partitioned twin and give the twin its name, indexes and triggers."""
    key, primary_key, indexes = TABLES[table]
    old = f"{table}_unpartitioned"
    _refuse_references(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({key})")
    # before the partitions: the functions give each partition the parent's TRUNCATE refusal
    _add_triggers(table)
    op.execute(f"SELECT registry_create_default_partition('{table}')")
    # every month that holds rows, then this month and MONTHS_AHEAD more
    op.execute(
        f"SELECT registry_create_month_partitions('{table}', m, 1) FROM ("
        f"SELECT DISTINCT CAST(date_trunc('month', {key} AT TIME ZONE 'UTC') AS date) AS m "
        f"FROM {old}) months ORDER BY m"
    )
    op.execute(
        f"SELECT registry_create_month_partitions('{table}', "
        f"CAST(now() AT TIME ZONE 'UTC' AS date), {MONTHS_AHEAD + 1})"
    )
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary_key})")
    for name, definition in indexes:
        op.execute(f"CREATE INDEX {name} ON {table} {definition}")
    for name, column, target in FOREIGN_KEYS.get(table, []):
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id)"
        )
    op.execute(f"ANALYZE {table}")


#: Indexes the plan checks (tests/plans/test_query_plans.py) showed missing: (name, table, def).
PLAN_INDEXES: list[tuple[str, str, str]] = [
    # a record's episodes, past ones included (get_record, get_person, subject access): the
    # partial unique index of 0001 covers only the current episode
    ("ix_enrolment_source_record_id", "enrolment", "(source_record_id)"),
]


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(CREATE_DEFAULT)
    op.execute(CREATE_MONTHS)
    op.execute(ENSURE)
    for table in TABLES:
        _partition(table)
    for name, table, definition in PLAN_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} {definition}")


def _unpartition(table: str) -> None:
    """Copy a partitioned table back into one plain table with the 0005 constraints."""
    indexes = TABLES[table][2]
    old = f"{table}_partitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    for name, definition in indexes:
        if name != "ix_source_record_version_record":
            op.execute(f"CREATE INDEX {name} ON {table} {definition}")
    if table == "source_record_version":
        op.execute(
            "ALTER TABLE source_record_version ADD CONSTRAINT "
            "uq_source_record_version_source_record_id UNIQUE (source_record_id, version)"
        )
    for name, column, target in FOREIGN_KEYS.get(table, []) + DROPPED_FOREIGN_KEYS.get(table, []):
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id)"
        )
    _add_triggers(table)


def downgrade() -> None:
    for name, _, _ in reversed(PLAN_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for table in TABLES:
        _unpartition(table)
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
