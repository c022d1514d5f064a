"""Receiving: the person summary holds receiving episodes only; beside episodes get an index.

Revision ID: 0016
Revises: 0014

"Receiving" (registry/overview/receiving.py) is an episode covering the day whose status is
active, ended or none; suspended and pending ones are counted beside it. The summary's
segments were cut from every episode: the persons with any other status are marked dirty, so
the next refresh recomputes them from receiving episodes. A partial index finds the current
suspended and pending episodes (the beside counts of fast coverage) without a scan.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_enrolment_beside ON enrolment (start_date) "
        "WHERE superseded_at IS NULL AND status IN ('suspended', 'pending')"
    )
    op.execute(
        "INSERT INTO overview_dirty (person_id) "
        "SELECT DISTINCT person_id FROM enrolment WHERE superseded_at IS NULL "
        "AND COALESCE(status, 'active') NOT IN ('active', 'ended')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_enrolment_beside")
    op.execute(
        "INSERT INTO overview_dirty (person_id) "
        "SELECT DISTINCT person_id FROM enrolment WHERE superseded_at IS NULL "
        "AND COALESCE(status, 'active') NOT IN ('active', 'ended')"
    )
