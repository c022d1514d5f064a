"""Probabilistic linkage: blocking keys, models, review queue, link events.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("other_person_id", sa.Uuid(), nullable=True),
        sa.Column("source_record_ids", sa.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('merge', 'split', 'match', 'non_match', 'relink', 'rectify')",
            name=op.f("ck_link_event_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_event")),
    )
    op.create_index(
        op.f("ix_link_event_other_person_id"), "link_event", ["other_person_id"], unique=False
    )
    op.create_index(op.f("ix_link_event_person_id"), "link_event", ["person_id"], unique=False)
    op.create_table(
        "linkage_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pairs_used", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_model")),
    )
    op.create_index(
        "ix_linkage_model_one_active",
        "linkage_model",
        ["active"],
        unique=True,
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "blocking_key",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_blocking_key_source_record_id_source_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "source_record_id", name=op.f("pk_blocking_key")),
    )
    op.create_index(
        op.f("ix_blocking_key_source_record_id"), "blocking_key", ["source_record_id"], unique=False
    )
    op.create_table(
        "match_candidate",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_person_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_record_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'match', 'non_match', 'superseded')",
            name=op.f("ck_match_candidate_status"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_person_id"],
            ["person.id"],
            name=op.f("fk_match_candidate_candidate_person_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_record_id"],
            ["source_record.id"],
            name=op.f("fk_match_candidate_candidate_record_id_source_record"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["linkage_model.id"],
            name=op.f("fk_match_candidate_model_id_linkage_model"),
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_match_candidate_source_record_id_source_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_candidate")),
    )
    op.create_index(
        "ix_match_candidate_open_pair",
        "match_candidate",
        ["source_record_id", "candidate_person_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_match_candidate_person", "match_candidate", ["candidate_person_id"], unique=False
    )
    op.create_index(
        op.f("ix_match_candidate_source_record_id"),
        "match_candidate",
        ["source_record_id"],
        unique=False,
    )
    op.create_index(
        "ix_match_candidate_status_created",
        "match_candidate",
        ["status", "created_at"],
        unique=False,
    )
    op.add_column(
        "source_record",
        sa.Column("link_weights", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("source_record", sa.Column("link_model_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_source_record_link_model_id_linkage_model"),
        "source_record",
        "linkage_model",
        ["link_model_id"],
        ["id"],
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_source_record_link_model_id_linkage_model"), "source_record", type_="foreignkey"
    )
    op.drop_column("source_record", "link_model_id")
    op.drop_column("source_record", "link_weights")
    op.drop_table("match_candidate")
    op.drop_table("blocking_key")
    op.drop_table("linkage_model")
    op.drop_table("link_event")
