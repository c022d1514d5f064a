"""registry core

Revision ID: 0001
Revises: (none)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_DESCRIPTIONS = {
    "admin": "users, clients and programmes; no personal data by default",
    "feed": "one programme's writes and reads",
    "oversight": "aggregates everywhere, person-level within their regions",
    "steward": "review queue, merge and split within their regions",
    "auditor": "audit trail only",
    "analyst": "aggregates only, with small-cell suppression",
}

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def _quoted(names: dict[str, str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("regions", sa.ARRAY(sa.String(length=16)), server_default="{}", nullable=False),
        sa.Column(
            "programmes", sa.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("merged_into", sa.Uuid(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("municipality", sa.String(length=16), nullable=True),
        sa.Column("mother_name", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'merged') = (merged_into IS NOT NULL)", name=op.f("ck_person_merged_into")
        ),
        sa.CheckConstraint("status IN ('active', 'merged')", name=op.f("ck_person_status")),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["person.id"], name=op.f("fk_person_merged_into_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_index(op.f("ix_person_region"), "person", ["region"], unique=False)
    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("benefit_codes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("trust_rank", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_code")),
    )
    op.create_table(
        "role",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_role")),
    )
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_api_client_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_table(
        "feed_batch",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("received", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_feed_batch_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_batch")),
        sa.UniqueConstraint("programme_id", "batch_id", name=op.f("uq_feed_batch_programme_id")),
    )
    op.create_table(
        "person_identifier",
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_identifier_person_id_person"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("scheme", "digest", name=op.f("pk_person_identifier")),
    )
    op.create_index(
        op.f("ix_person_identifier_person_id"), "person_identifier", ["person_id"], unique=False
    )
    op.create_table(
        "source_record",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("link_method", sa.String(length=16), nullable=False),
        sa.Column("link_score", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload_hash", sa.LargeBinary(), nullable=False),
        sa.Column("national_id_digest", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_masked", sa.String(length=32), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("municipality", sa.String(length=16), nullable=True),
        sa.Column("mother_name", sa.Text(), nullable=True),
        sa.Column("retracted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "link_method IN ('national_id', 'probabilistic', 'manual', 'new')",
            name=op.f("ck_source_record_link_method"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_source_record_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_source_record_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record")),
        sa.UniqueConstraint(
            "programme_id", "source_id", name=op.f("uq_source_record_programme_id")
        ),
    )
    op.create_index(
        op.f("ix_source_record_person_id"), "source_record", ["person_id"], unique=False
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("benefit_code", sa.String(length=32), nullable=False),
        sa.Column("target_group", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_enrolment_dates")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_enrolment_programme_id_programme")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_enrolment_source_record_id_source_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
    )
    op.create_index(
        "ix_enrolment_current_source",
        "enrolment",
        ["source_record_id"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL"),
    )
    op.create_index(op.f("ix_enrolment_person_id"), "enrolment", ["person_id"], unique=False)
    op.create_index(
        "ix_enrolment_programme_dates",
        "enrolment",
        ["programme_id", "start_date", "end_date"],
        unique=False,
    )
    op.create_table(
        "feed_error",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("feed_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("severity IN ('error', 'warning')", name=op.f("ck_feed_error_severity")),
        sa.ForeignKeyConstraint(
            ["feed_batch_id"],
            ["feed_batch.id"],
            name=op.f("fk_feed_error_feed_batch_id_feed_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_feed_error_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_error")),
    )
    op.create_index(
        op.f("ix_feed_error_feed_batch_id"), "feed_error", ["feed_batch_id"], unique=False
    )
    op.create_index(
        "ix_feed_error_programme_code", "feed_error", ["programme_id", "code"], unique=False
    )
    op.create_table(
        "source_record_version",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("feed_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload_hash", sa.LargeBinary(), nullable=False),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["feed_batch_id"],
            ["feed_batch.id"],
            name=op.f("fk_source_record_version_feed_batch_id_feed_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_source_record_version_source_record_id_source_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record_version")),
        sa.UniqueConstraint(
            "source_record_id", "version", name=op.f("uq_source_record_version_source_record_id")
        ),
    )
    op.create_index(
        op.f("ix_source_record_version_feed_batch_id"),
        "source_record_version",
        ["feed_batch_id"],
        unique=False,
    )
    op.bulk_insert(
        sa.table("role", sa.column("name", sa.String), sa.column("description", sa.Text)),
        [{"name": name, "description": text} for name, text in ROLE_DESCRIPTIONS.items()],
    )
    op.create_check_constraint(
        "roles_known", "app_user", f"roles <@ ARRAY[{_quoted(ROLE_DESCRIPTIONS)}]::varchar[]"
    )
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER source_record_version_append_only BEFORE UPDATE OR DELETE "
        "ON source_record_version FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS source_record_version_append_only ON source_record_version")
    op.execute("DROP FUNCTION IF EXISTS registry_refuse_change()")
    op.drop_index(
        op.f("ix_source_record_version_feed_batch_id"), table_name="source_record_version"
    )
    op.drop_table("source_record_version")
    op.drop_index("ix_feed_error_programme_code", table_name="feed_error")
    op.drop_index(op.f("ix_feed_error_feed_batch_id"), table_name="feed_error")
    op.drop_table("feed_error")
    op.drop_index("ix_enrolment_programme_dates", table_name="enrolment")
    op.drop_index(op.f("ix_enrolment_person_id"), table_name="enrolment")
    op.drop_index(
        "ix_enrolment_current_source",
        table_name="enrolment",
        postgresql_where=sa.text("superseded_at IS NULL"),
    )
    op.drop_table("enrolment")
    op.drop_index(op.f("ix_source_record_person_id"), table_name="source_record")
    op.drop_table("source_record")
    op.drop_index(op.f("ix_person_identifier_person_id"), table_name="person_identifier")
    op.drop_table("person_identifier")
    op.drop_table("feed_batch")
    op.drop_table("api_client")
    op.drop_table("role")
    op.drop_table("programme")
    op.drop_index(op.f("ix_person_region"), table_name="person")
    op.drop_table("person")
    op.drop_table("app_user")
