"""Audit manifests: the persons a bulk answer carried, kept with the event that recorded it.

Revision ID: 0009
Revises: 0008

"Who accessed" must list every read of a person, but a links export names every person of
the caller's regions (a million at national scale) and an auditor's CSV page of the trail can
name as many. Those persons do not go into the event row: a listing page would carry them
and one GIN entry list would grow by a million keys. `audit_manifest` holds them instead, in
sorted chunks of at most 1,000 person ids per row, keyed by the event and carrying its
`occurred_at` (the partition key of `audit_event`, so the lookup back is pruned to a month).
The GIN index on the person ids has `fastupdate` off: manifests arrive as bulk inserts of up
to a million keys, which a pending list would take in 4 MB pieces, merging each inside the
exporting request (measured: 1M persons in 42 s with it, about 6 s of database time without).
The event's `detail.manifest` holds the count and the sha256 of the sorted list, so the
hash chain binds the manifest: `/audit/verify` recomputes it.

Append-only like `audit_event`: row triggers refuse UPDATE and DELETE, a statement trigger
refuses TRUNCATE (`registry_refuse_change()`). No foreign key to `audit_event`: its key
includes the partition key, and the chain, not a key, is what vouches for both.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_manifest",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("person_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "chunk", name=op.f("pk_audit_manifest")),
    )
    op.create_index(
        "ix_audit_manifest_person_ids",
        "audit_manifest",
        ["person_ids"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.execute(
        "CREATE TRIGGER audit_manifest_append_only BEFORE UPDATE OR DELETE ON audit_manifest "
        "FOR EACH ROW EXECUTE FUNCTION registry_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_manifest_no_truncate BEFORE TRUNCATE ON audit_manifest "
        "FOR EACH STATEMENT EXECUTE FUNCTION registry_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_manifest_no_truncate ON audit_manifest")
    op.execute("DROP TRIGGER IF EXISTS audit_manifest_append_only ON audit_manifest")
    op.drop_index("ix_audit_manifest_person_ids", table_name="audit_manifest")
    op.drop_table("audit_manifest")
