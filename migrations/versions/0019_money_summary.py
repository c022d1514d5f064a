"""Money summary: per-person money events and spell flows, and their sums per cell and month.

Revision ID: 0019
Revises: 0018

Spending by programme, region and benefit reads `overview_money_cell` (a few thousand rows)
instead of every episode. The person summary's refresh keeps it: it replaces a refreshed
person's rows in `overview_money_person` and adds the difference to the cells. Every person
with an amount is marked dirty so the next refresh fills both; until then answers read the
episodes. `overview_flow_person` and `overview_flow_cell` do the same for the receiving
spells opened and closed per month (inflow and outflow).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = (
    "INSERT INTO overview_dirty (person_id) "
    "SELECT DISTINCT person_id FROM enrolment WHERE superseded_at IS NULL"
)


def _flow_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("benefit_code", sa.String(length=32), nullable=True),
        sa.Column("flow", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("spells", sa.Integer(), nullable=False),
    ]


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("benefit_code", sa.String(length=32), nullable=True),
        sa.Column("per", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("first_day", sa.Boolean(), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("day_amount", sa.Numeric(), nullable=False),
        sa.Column("doy_amount", sa.Numeric(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "overview_money_person",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_money_person")),
    )
    op.create_index(
        op.f("ix_overview_money_person_person_id"), "overview_money_person", ["person_id"]
    )
    op.create_table(
        "overview_money_cell",
        sa.Column("id", sa.BigInteger(), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_money_cell")),
    )
    op.create_index(
        "uq_overview_money_cell_key",
        "overview_money_cell",
        ["programme_id", "region", "benefit_code", "per", "kind", "month", "first_day"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "overview_flow_person",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        *_flow_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_flow_person")),
    )
    op.create_index(
        op.f("ix_overview_flow_person_person_id"), "overview_flow_person", ["person_id"]
    )
    op.create_table(
        "overview_flow_cell",
        sa.Column("id", sa.BigInteger(), nullable=False),
        *_flow_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overview_flow_cell")),
    )
    op.create_index(
        "uq_overview_flow_cell_key",
        "overview_flow_cell",
        ["programme_id", "region", "benefit_code", "flow", "month"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.execute(_MARK)


def downgrade() -> None:
    op.drop_index("uq_overview_flow_cell_key", table_name="overview_flow_cell")
    op.drop_table("overview_flow_cell")
    op.drop_index(op.f("ix_overview_flow_person_person_id"), table_name="overview_flow_person")
    op.drop_table("overview_flow_person")
    op.drop_index("uq_overview_money_cell_key", table_name="overview_money_cell")
    op.drop_table("overview_money_cell")
    op.drop_index(op.f("ix_overview_money_person_person_id"), table_name="overview_money_person")
    op.drop_table("overview_money_person")
