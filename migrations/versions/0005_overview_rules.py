"""Overview: exclusivity rules, per-batch active counts, and the person summary.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Statement-level triggers: every person whose episodes (or merge) change is marked dirty, so
#: the overview summary is never trusted for a person it has not recomputed.
TRIGGER_FUNCTIONS = {
    "overview_mark_inserted": "SELECT person_id FROM new_rows",
    "overview_mark_updated": (
        "SELECT o.person_id FROM old_rows o UNION SELECT n.person_id FROM new_rows n"
    ),
    "overview_mark_deleted": "SELECT person_id FROM old_rows",
    "overview_mark_merged": (
        "SELECT x.id FROM (SELECT n.id, o.merged_into AS before, n.merged_into AS after "
        "FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE o.merged_into IS DISTINCT FROM n.merged_into) c "
        "CROSS JOIN LATERAL (VALUES (c.id), (c.before), (c.after)) x(id) "
        "WHERE x.id IS NOT NULL"
    ),
}

TRIGGERS = (
    ("enrolment_overview_insert", "enrolment", "INSERT", "NEW TABLE AS new_rows", "inserted"),
    (
        "enrolment_overview_update",
        "enrolment",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "updated",
    ),
    ("enrolment_overview_delete", "enrolment", "DELETE", "OLD TABLE AS old_rows", "deleted"),
    (
        "person_overview_merge",
        "person",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "merged",
    ),
)


def upgrade() -> None:
    op.create_table(
        "programme_exclusion",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("programme_id < other_id", name=op.f("ck_programme_exclusion_ordered")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_exclusion_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["programme.id"],
            name=op.f("fk_programme_exclusion_other_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", "other_id", name=op.f("pk_programme_exclusion")),
    )
    op.create_table(
        "batch_active_count",
        sa.Column("feed_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("active_persons", sa.Integer(), nullable=False),
        sa.Column("active_enrolments", sa.Integer(), nullable=False),
        sa.Column(
            "taken_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["feed_batch_id"],
            ["feed_batch.id"],
            name=op.f("fk_batch_active_count_feed_batch_id_feed_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_batch_active_count_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feed_batch_id", name=op.f("pk_batch_active_count")),
    )
    op.create_index(
        "ix_batch_active_count_programme",
        "batch_active_count",
        ["programme_id", "feed_batch_id"],
    )
    op.create_table(
        "overview_dirty",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_dirty")),
    )
    op.create_table(
        "overview_spell",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("enrolments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_spell")),
    )
    op.create_index(op.f("ix_overview_spell_person_id"), "overview_spell", ["person_id"])
    op.create_table(
        "overview_combination",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("programme_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_combination")),
    )
    op.create_index(
        op.f("ix_overview_combination_person_id"), "overview_combination", ["person_id"]
    )
    op.create_index(
        "ix_overview_person_merged_into",
        "person",
        ["merged_into"],
        postgresql_where=sa.text("merged_into IS NOT NULL"),
    )
    for name, select in TRIGGER_FUNCTIONS.items():
        op.execute(
            f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO overview_dirty (person_id)
    SELECT DISTINCT person_id FROM ({select}) AS changed(person_id);
    RETURN NULL;
END
$$;
"""
        )
    for trigger, table, event, referencing, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION overview_mark_{function}()"
        )
    # Everything already held is stale until the first refresh.
    op.execute("INSERT INTO overview_dirty (person_id) SELECT DISTINCT person_id FROM enrolment")


def downgrade() -> None:
    for trigger, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for name in TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_overview_person_merged_into", table_name="person")
    op.drop_table("overview_combination")
    op.drop_table("overview_spell")
    op.drop_table("overview_dirty")
    op.drop_table("batch_active_count")
    op.drop_table("programme_exclusion")
