"""Declared breaks: a programme's system switches, and the spikes and jumps each explains."""

from __future__ import annotations

from datetime import UTC, datetime, time

from registry.overview.schemas import ActiveCountJump, DeclaredBreak, StartDateSpike
from registry.programmes.switch import SwitchAnswer


def declared_breaks(
    switches: list[SwitchAnswer],
    spikes: list[StartDateSpike],
    jumps: list[ActiveCountJump],
    received: dict[str, str],
    recorded_at: datetime | None = None,
) -> tuple[list[DeclaredBreak], list[StartDateSpike], list[ActiveCountJump]]:
    """The switches as breaks, and the spikes and jumps no switch explains.

    A switch explains the start-date spike on its switch date and the jump into the first
    batch received at or after the switch (its date or its declaration, whichever is first).
    `received` maps a batch id to when it was received (ISO); a switch declared after
    `recorded_at` is not yet known.
    """
    if recorded_at is not None and recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    found: list[DeclaredBreak] = []
    explained_spikes: set[str] = set()
    explained_jumps: set[str] = set()
    for switch in switches:
        declared = datetime.fromisoformat(switch.declared_at)
        if recorded_at is not None and declared > recorded_at:
            continue
        day = datetime.fromisoformat(switch.switch_date).date()
        boundary = min(declared, datetime.combine(day, time(), tzinfo=UTC))
        its_spikes = [s for s in spikes if s.start_date == switch.switch_date]
        its_jumps = [
            j
            for j in jumps
            if datetime.fromisoformat(received[j.previous_batch_id])
            < boundary
            <= datetime.fromisoformat(received[j.batch_id])
        ]
        explained_spikes.update(s.start_date for s in its_spikes)
        explained_jumps.update(j.batch_id for j in its_jumps)
        found.append(
            DeclaredBreak(
                kind="system_switch",
                date=switch.switch_date,
                declared_at=switch.declared_at,
                rekeyed=switch.rekeyed,
                start_date_spikes=its_spikes,
                active_count_jumps=its_jumps,
            )
        )
    return (
        found,
        [s for s in spikes if s.start_date not in explained_spikes],
        [j for j in jumps if j.batch_id not in explained_jumps],
    )
