"""Time-ordered person ids: `registry_uuid7()`, a UUID version 7 (RFC 9562) for new persons.

Revision ID: 0007
Revises: 0006

A person's id is the key of `person` and a column of every index over personal data
(`source_record`, `enrolment`, `person_identifier`, the overview summary). Random (version 4)
ids scatter a batch's new persons over every page of those indexes: at a million persons a
1,000-record batch touched some thousands of random index pages, each written whole to the
WAL after a checkpoint. A version 7 id starts with the creation time in milliseconds, so a
batch's new persons land next to each other at one place of each index. The remaining 74
bits stay random (from `gen_random_uuid()`), so ids are no easier to guess; what an id now
tells is when its person was first created, which the person's record holds anyway.

PostgreSQL 18 has `uuidv7()`; the registry runs on 15 as well, so this function builds the
same layout from `gen_random_uuid()` and `clock_timestamp()`: the first 48 bits are the Unix
time in milliseconds, the version nibble becomes 7 (0100 -> 0111: bits 52 and 53 set), the
variant bits stay those of version 4. Ids created before stay as they are: both kinds are
plain `uuid` values.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID7 = """
CREATE OR REPLACE FUNCTION registry_uuid7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(
                int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$
"""


def upgrade() -> None:
    op.execute(UUID7)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS registry_uuid7()")
