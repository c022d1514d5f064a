"""The audit trail's answers: listed events, who accessed a person, a verification's outcome."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ListedEvent:
    """One audit event as an auditor lists it (its hash in hex)."""

    id: int
    occurred_at: str
    actor: str
    roles: list[str]
    action: str
    outcome: str
    person_ids: list[str]
    record_ids: list[str]
    purpose: str | None
    request_id: str | None
    client_address: str | None
    #: the event's stored JSON payload (data, shaped by its action)
    detail: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class EventPage:
    """A page of events, newest first; `next_cursor` continues the listing."""

    events: list[ListedEvent]
    next_cursor: int | None


@dataclass(frozen=True)
class Access:
    """How often one actor took one action on a person, first and last time, and why."""

    actor: str
    roles: list[str]
    action: str
    outcome: str
    events: int
    first_at: datetime
    last_at: datetime
    purposes: list[str]


@dataclass(frozen=True)
class PersonAccesses:
    """Who accessed a person, per actor and action."""

    person_id: str
    accesses: list[Access]


@dataclass(frozen=True)
class ManifestCheck:
    """How many manifests matched their events, and the first event whose manifest did not."""

    manifests_checked: int
    manifest_broken: int | None = None


@dataclass(frozen=True, kw_only=True)
class TrailCheck:
    """A verification of the trail: ok, how far it held, its head, and every problem found.

    `first_broken` is set when a link fails (then there is no head); `anchors_checked` when
    anchors were given; `manifests_checked` once the chain held, `manifest_broken` when a
    manifest did not match its event.
    """

    ok: bool
    events_checked: int
    first_broken: int | None = None
    head: str | None = None
    head_id: int | None = None
    anchors_checked: int | None = None
    problems: list[str] = field(default_factory=list)
    manifests_checked: int | None = None
    manifest_broken: int | None = None

    def to_json(self) -> dict[str, object]:
        """The outcome as the API and the CLI show it: fields that do not apply are left out."""
        shown = asdict(self)
        if self.first_broken is None:
            del shown["first_broken"]
        else:
            del shown["head"], shown["head_id"]
        for key in ("anchors_checked", "manifests_checked", "manifest_broken"):
            if shown[key] is None:
                del shown[key]
        return shown
