"""Access hardening: lockout, token revocation, key and secret rotation.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # tokens carry the subject's token version: bumping it (logout, disable, rotation) revokes
    for table in ("app_user", "api_client"):
        op.add_column(
            table,
            sa.Column("token_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_failure_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "person_rectification",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "rectified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_rectification_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_rectification")),
    )
    op.create_index(
        op.f("ix_person_rectification_person_id"),
        "person_rectification",
        ["person_id"],
        unique=False,
    )
    # the old values are the history: corrections are never edited or deleted
    op.execute(
        "CREATE TRIGGER person_rectification_append_only BEFORE UPDATE OR DELETE "
        "ON person_rectification FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS person_rectification_append_only ON person_rectification")
    op.drop_index(op.f("ix_person_rectification_person_id"), table_name="person_rectification")
    op.drop_table("person_rectification")
    op.drop_table("login_throttle")
    for table in ("api_client", "app_user"):
        op.drop_column(table, "token_version")
