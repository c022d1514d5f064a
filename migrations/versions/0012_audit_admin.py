"""Kept anchors noted in the database, so the auditor's page can show the last one.

Revision ID: 0012
Revises: 0010

`registry audit anchor --out FILE` appends a signed anchor to a file kept outside the
database; it now also inserts a row into `audit_anchor` (the anchored event, its hash, the
chain's length then, when, by whom). The row is a pointer for the dashboard, not proof: the
file and its key are (`registry audit verify --anchors FILE`). It is not an audit event, so
the chain an anchor vouches for does not grow by anchoring it. Append-only like the other
`audit_` tables: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE,
and the application role gets SELECT and INSERT only (`registry_grant_app_privileges()`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
    )
    op.execute(
        "CREATE TRIGGER audit_anchor_append_only BEFORE UPDATE OR DELETE ON audit_anchor "
        "FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor "
        "FOR EACH STATEMENT EXECUTE FUNCTION registry_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_anchor_no_truncate ON audit_anchor")
    op.execute("DROP TRIGGER IF EXISTS audit_anchor_append_only ON audit_anchor")
    op.drop_table("audit_anchor")
