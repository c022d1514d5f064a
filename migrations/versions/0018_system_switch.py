"""Declared system switches: a programme's move to a new MIS and the records it re-keyed.

Revision ID: 0018
Revises: 0017

`system_switch` keeps one row per declared switch (programme, switch date, who declared it,
how many records were re-keyed); `system_switch_key` the map as applied (old and new source
id, the record). Both are append-only (`registry_refuse_change()`), so the application role
gets SELECT and INSERT only. The quality report reads them to show a switch as a declared
break.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()"
)


def upgrade() -> None:
    op.create_table(
        "system_switch",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("switch_date", sa.Date(), nullable=False),
        sa.Column("declared_by", sa.Text(), nullable=False),
        sa.Column(
            "declared_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rekeyed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_system_switch_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_switch")),
    )
    op.create_index(op.f("ix_system_switch_programme_id"), "system_switch", ["programme_id"])
    op.create_table(
        "system_switch_key",
        sa.Column("switch_id", sa.BigInteger(), nullable=False),
        sa.Column("old_source_id", sa.Text(), nullable=False),
        sa.Column("new_source_id", sa.Text(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["switch_id"],
            ["system_switch.id"],
            name=op.f("fk_system_switch_key_switch_id_system_switch"),
        ),
        sa.PrimaryKeyConstraint("switch_id", "old_source_id", name=op.f("pk_system_switch_key")),
    )
    for table in ("system_switch", "system_switch_key"):
        op.execute(APPEND_ONLY.format(table=table))
    op.execute("SELECT registry_grant_app_privileges()")


def downgrade() -> None:
    op.drop_table("system_switch_key")
    op.drop_index(op.f("ix_system_switch_programme_id"), table_name="system_switch")
    op.drop_table("system_switch")
