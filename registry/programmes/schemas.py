"""The programmes' answers as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exclusions:
    """A programme and the programmes marked mutually exclusive with it, by code."""

    programme: str
    exclusive_with: list[str]
