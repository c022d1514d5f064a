"""The programmes' answers as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Exclusions:
    """A programme and the programmes marked mutually exclusive with it, by code."""

    programme: str
    exclusive_with: list[str]


@dataclass(frozen=True)
class ProgrammeChange:
    """What an admin changes in a programme; None leaves a field as it is ("" clears agency)."""

    name: str | None = None
    agency: str | None = None
    benefit_codes: list[str] | None = None
    trust_rank: int | None = None


@dataclass(frozen=True)
class ProgrammeState:
    """A programme as it was after one change (version 1: as created), and who changed it."""

    version: int
    name: str
    agency: str | None
    benefit_codes: list[str]
    trust_rank: int
    changed_by: str
    changed_at: datetime
