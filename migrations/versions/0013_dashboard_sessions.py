"""Dashboard sessions ended by sign-out: one browser's session ends, the user's others live on.

Revision ID: 0013
Revises: 0012

A dashboard token carries a session id (`sid`) and the session's start; signing out writes
the session id here, and every dashboard request with a cookie checks it (a primary-key
lookup). A row is needed only until the session's absolute end (`expires_at`), after which
its tokens are refused anyway: sign-out deletes the expired rows. The application role gets
SELECT, INSERT, UPDATE and DELETE through `registry_grant_app_privileges()`, which the
upgrade applies after every migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_session_end",
        sa.Column("sid", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=150), nullable=False),
        sa.Column(
            "ended_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_dashboard_session_end")),
    )
    op.create_index(
        op.f("ix_dashboard_session_end_expires_at"),
        "dashboard_session_end",
        ["expires_at"],
    )
    op.execute("SELECT registry_grant_app_privileges()")


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_session_end_expires_at"), table_name="dashboard_session_end")
    op.drop_table("dashboard_session_end")
