"""Money and movement at scale: retracted records indexed, the receiving status estimated.

Revision ID: 0017
Revises: 0015

Spending, inflow/outflow, durations and full-year persons scan millions of episodes; instead
of joining every episode to its source record to read `retracted`, they exclude the ids of
the retracted records, which this partial index lists (it grows only with retractions).
Statistics on the receiving expression (`overview.receiving.receiving_sql`) let the planner
see how many episodes are receiving; without them it guesses 0.5% and picks serial plans
(sort, then aggregate) for answers that read a third of the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_source_record_retracted",
        "source_record",
        ["id"],
        postgresql_where=sa.text("retracted"),
    )
    op.execute(
        "CREATE STATISTICS enrolment_receiving_status ON (COALESCE(status, 'active')) "
        "FROM enrolment"
    )


def downgrade() -> None:
    op.execute("DROP STATISTICS enrolment_receiving_status")
    op.drop_index("ix_source_record_retracted", table_name="source_record")
