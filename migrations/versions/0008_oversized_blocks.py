"""Oversized blocks: keys known to hold more records than a block may, skipped unread.

Revision ID: 0008
Revises: 0007

The candidate search skips a blocking key whose block is above the limit
(`REGISTRY_LINKAGE_MAX_BLOCK`, 100 by default), but it learnt that by reading the block one
record past the limit, every time. At a million persons a fifth of a batch's key lookups hit
such a block (82 % of the family-name-and-year keys): over half of the index entries a batch
read were read to be dropped. `blocking_key_oversized` names those keys with a size the
block had at least; the search skips a key named with a size above the limit without
reading it, and names every key it finds above the limit. Blocks grow by ingest and shrink
only by retraction or an update of a record's names, so an entry goes stale only by a block
shrinking back under the limit: `registry linkage relink --apply` counts every named block
again (registry.matching.blocks).

The key from `blocking_key.source_record_id` to `source_record` goes: a check per inserted key
(7,000 per 1,000-record batch, ~22 ms at a million persons) for a table that ingest writes
only for records it has just upserted, relink rebuilds, and that is derived from the
records. Source records are never deleted. The distribution plan had dropped it already
(registry/core/distribution.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Blocks above the default limit are named at once (a higher limit reads them again).
DEFAULT_MAX_BLOCK = 100

FK = "fk_blocking_key_source_record_id_source_record"


def upgrade() -> None:
    op.create_table(
        "blocking_key_oversized",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "noted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_blocking_key_oversized")),
    )
    op.execute(
        "INSERT INTO blocking_key_oversized (key, size) "
        "SELECT key, count(*) FROM blocking_key GROUP BY key "
        f"HAVING count(*) > {DEFAULT_MAX_BLOCK}"
    )
    op.drop_constraint(FK, "blocking_key", type_="foreignkey")


def downgrade() -> None:
    op.execute(
        "DELETE FROM blocking_key b WHERE NOT EXISTS "
        "(SELECT 1 FROM source_record r WHERE r.id = b.source_record_id)"
    )
    op.create_foreign_key(
        FK, "blocking_key", "source_record", ["source_record_id"], ["id"], ondelete="CASCADE"
    )
    op.drop_table("blocking_key_oversized")
