"""A declared switch explains the jump into the first batch after it, and its date's spike."""

from __future__ import annotations

from datetime import UTC, datetime

from registry.overview.declared_breaks import declared_breaks
from registry.overview.schemas import ActiveCountJump, StartDateSpike
from registry.programmes.switch import SwitchAnswer


def jump(batch: str, previous: str) -> ActiveCountJump:
    return ActiveCountJump(batch, previous, 100, 180, 80, 0.8, "jump")


SWITCH = SwitchAnswer(
    id=1,
    programme="SEL85",
    switch_date="2026-03-01",
    declared_by="client:x",
    declared_at="2026-02-27T10:00:00+00:00",
    channel="json",
    file_sha256=None,
    rows=100,
    rekeyed=100,
)
RECEIVED = {
    "jan": "2026-01-31T08:00:00+00:00",
    "feb": "2026-02-26T08:00:00+00:00",
    "mar": "2026-03-02T08:00:00+00:00",
    "apr": "2026-04-01T08:00:00+00:00",
}
SPIKES = [StartDateSpike("2026-03-01", 80, 1.0, 0.4), StartDateSpike("2025-06-01", 30, 1.0, 0.1)]
JUMPS = [jump("feb", "jan"), jump("mar", "feb"), jump("apr", "mar")]


def test_the_switch_takes_its_spike_and_the_jump_across_it_and_leaves_the_rest() -> None:
    found, spikes, jumps = declared_breaks([SWITCH], SPIKES, JUMPS, RECEIVED)
    [declared] = found
    assert [s.start_date for s in declared.start_date_spikes] == ["2026-03-01"]
    assert [j.batch_id for j in declared.active_count_jumps] == ["mar"]
    assert [s.start_date for s in spikes] == ["2025-06-01"]
    assert [j.batch_id for j in jumps] == ["feb", "apr"]


def test_a_switch_declared_after_the_reports_system_time_is_not_yet_known() -> None:
    before = datetime(2026, 2, 1, tzinfo=UTC)
    found, spikes, jumps = declared_breaks([SWITCH], SPIKES, JUMPS, RECEIVED, before)
    assert (found, spikes, jumps) == ([], SPIKES, JUMPS)
