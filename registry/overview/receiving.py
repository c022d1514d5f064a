"""What "receiving" means, defined once for every count of the overview.

A person receives a benefit on a day when an episode of it covers the day and its status is
receiving: `active`, `ended` (an ended episode was active throughout its dates) or no status
at all (feeds that send none). `suspended` and `pending` episodes are counted beside the
receiving ones, never inside them.
"""

from __future__ import annotations

#: The statuses of an episode that count as receiving while its dates cover the day.
RECEIVING_STATUSES = ("active", "ended")
#: The statuses reported beside the receiving counts.
BESIDE_STATUSES = ("suspended", "pending")


def receiving_sql(alias: str = "e") -> str:
    """The SQL condition: the episode `alias` is receiving (dates are checked apart).

    Written on the bare column (not COALESCE) so the planner estimates it from the column's
    statistics: an expression gets a default selectivity near 1 %, a hundredfold too low.
    """
    statuses = ", ".join(f"'{s}'" for s in RECEIVING_STATUSES)
    return f"({alias}.status IS NULL OR {alias}.status IN ({statuses}))"
