"""Money and movement at scale: the retracted records indexed.

Revision ID: 0017
Revises: 0016

Spending, inflow/outflow, durations and full-year persons scan millions of episodes; instead
of joining every episode to its source record to read `retracted`, they exclude the ids of
the retracted records, which this partial index lists (it grows only with retractions).
(The receiving condition, `overview.receiving.receiving_sql`, is written on the bare status
column so the planner estimates it from the column's statistics.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_source_record_retracted",
        "source_record",
        ["id"],
        postgresql_where=sa.text("retracted"),
    )


def downgrade() -> None:
    op.drop_index("ix_source_record_retracted", table_name="source_record")
