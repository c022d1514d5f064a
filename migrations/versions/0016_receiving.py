"""Receiving: the person summary holds receiving episodes only; beside ones get their own.

Revision ID: 0016
Revises: 0015

"Receiving" (registry/overview/receiving.py) is an episode covering the day whose status is
active, ended or none; suspended and pending ones are counted beside it. The summary's
segments were cut from every episode: `overview_beside` holds, per person and segment, the
class (suspended, pending) a person has in each cell and margin of coverage by programme and
region where they are not receiving, and every person with a status is marked dirty so the
next refresh recomputes both from the statuses.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = (
    "INSERT INTO overview_dirty (person_id) "
    "SELECT DISTINCT person_id FROM enrolment WHERE superseded_at IS NULL "
    "AND COALESCE(status, 'active') NOT IN ('active', 'ended')"
)


def upgrade() -> None:
    op.create_table(
        "overview_beside",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_beside")),
    )
    op.create_index(op.f("ix_overview_beside_person_id"), "overview_beside", ["person_id"])
    op.execute(_MARK)


def downgrade() -> None:
    op.drop_index(op.f("ix_overview_beside_person_id"), table_name="overview_beside")
    op.drop_table("overview_beside")
    op.execute(_MARK)
