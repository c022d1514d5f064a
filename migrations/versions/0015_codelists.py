"""Code lists as data (versioned, with validity dates) and programme history.

Revision ID: 0015
Revises: 0014

`code_list` names a list (kind: benefit, target_group, region, municipality, status_map;
owner: the registry, NULL, or one programme's code); `code_list_version` is one load of it
(loading again adds the next version; old versions stay); `code_list_entry` holds a
version's codes with description, attributes (a benefit's paragraph, a status word's
registry status) and valid_from/valid_to. The shipped CSV lists are loaded as version 1
(L402 valid from 2018-01-01). `programme_version` keeps each programme as it was after each
change; the programmes already held get their version 1 here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from registry.codelists.defaults import seed_defaults

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "code_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "kind IN ('benefit', 'target_group', 'region', 'municipality', 'status_map')",
            name=op.f("ck_code_list_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_list")),
        sa.UniqueConstraint("name", name=op.f("uq_code_list_name")),
    )
    op.create_table(
        "code_list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_list_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        _created_at("loaded_at"),
        sa.ForeignKeyConstraint(
            ["code_list_id"],
            ["code_list.id"],
            name=op.f("fk_code_list_version_code_list_id_code_list"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_list_version")),
        sa.UniqueConstraint(
            "code_list_id", "version", name=op.f("uq_code_list_version_code_list_id")
        ),
    )
    op.create_table(
        "code_list_entry",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["code_list_version.id"],
            name=op.f("fk_code_list_entry_version_id_code_list_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_list_entry")),
    )
    op.create_index(
        op.f("ix_code_list_entry_version_id"), "code_list_entry", ["version_id"], unique=False
    )
    op.create_table(
        "programme_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("benefit_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("trust_rank", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        _created_at("changed_at"),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_version_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_version")),
        sa.UniqueConstraint(
            "programme_id", "version", name=op.f("uq_programme_version_programme_id")
        ),
    )
    op.execute(
        "INSERT INTO programme_version (programme_id, version, name, agency, benefit_codes, "
        "trust_rank, changed_by, changed_at) SELECT id, 1, name, agency, benefit_codes, "
        "trust_rank, 'migration 0015', created_at FROM programme"
    )
    seed_defaults(op.get_bind())
    op.execute("SELECT registry_grant_app_privileges()")


def downgrade() -> None:
    op.drop_table("programme_version")
    op.drop_index(op.f("ix_code_list_entry_version_id"), table_name="code_list_entry")
    op.drop_table("code_list_entry")
    op.drop_table("code_list_version")
    op.drop_table("code_list")
