"""An episode's amount says what it is per (month, year, payment) and its granting paragraph.

Revision ID: 0014
Revises: 0013

Both columns are optional and filled only by feeds that send them: `amount_period` decides how
spending sums an amount over a period, `legal_basis` is checked against the benefit code's
paragraph in its code list.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enrolment", sa.Column("amount_period", sa.Text(), nullable=True))
    op.add_column("enrolment", sa.Column("legal_basis", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_enrolment_amount_period"),
        "enrolment",
        "amount_period IS NULL OR amount_period IN ('month', 'year', 'payment')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_enrolment_amount_period"), "enrolment", type_="check")
    op.drop_column("enrolment", "legal_basis")
    op.drop_column("enrolment", "amount_period")
