"""Times as the dashboard shows them: local to Denmark (Europe/Copenhagen), with their instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Copenhagen")
#: The idle warning shows this long before a session's token runs out.
WARNING_SECONDS = 5 * 60
#: Delayed warnings are scheduled up to this many minutes ahead (the stylesheet's classes).
MAX_WARNING_MINUTES = 240


def as_instant(value: datetime | str | int | float) -> datetime:
    """A datetime, an ISO 8601 string or epoch seconds, as an aware instant (naive = UTC)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(value: datetime | str | int | float | None, seconds: bool = False) -> str:
    """`YYYY-MM-DD HH:MM` in Danish local time (empty for none)."""
    if value is None or value == "":
        return ""
    shown = as_instant(value).astimezone(ZONE)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def clock_time(value: datetime | str | int | float) -> str:
    """`HH:MM` in Danish local time."""
    return as_instant(value).astimezone(ZONE).strftime("%H:%M")


@dataclass(frozen=True)
class SessionNotice:
    """What the page frame says about the session: when it ends, and when to warn."""

    #: the end, local `HH:MM`, and as an ISO instant for `<time datetime>`
    ends_at: str
    ends_iso: str
    #: the end is the absolute limit: no page view extends the session
    final: bool
    #: minutes from now until the warning shows (0: at once); None: too far ahead to schedule
    warn_after: int | None


def session_notice(expires: int, final: bool, now: int) -> SessionNotice:
    """The frame's notice for a session whose token runs out at `expires` (epoch seconds)."""
    minutes = max(0, (expires - now - WARNING_SECONDS) // 60)
    return SessionNotice(
        ends_at=clock_time(expires),
        ends_iso=as_instant(expires).isoformat(),
        final=final,
        warn_after=minutes if minutes <= MAX_WARNING_MINUTES else None,
    )


def warning_styles() -> str:
    """The stylesheet rules that show a session warning after a whole number of minutes."""
    return "\n".join(
        f".session-warning.warn-after-{m} {{ animation-delay: {m * 60}s; }}"
        for m in range(MAX_WARNING_MINUTES + 1)
    )
