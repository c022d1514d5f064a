"""Who reads the overview, when answers are suppressed, and the caller's regions in SQL."""

from __future__ import annotations

from typing import Any

from registry.access.principal import Principal

OVERVIEW_READERS = ("oversight", "analyst")


def suppressing(principal: Principal, suppress: bool) -> bool:
    """Analysts always get suppressed answers; others when they ask for it."""
    return suppress or (principal.has_any("analyst") and not principal.has_any("oversight"))


def scope_sql(principal: Principal, person: str) -> tuple[str, dict[str, Any]]:
    """SQL condition: the resolved person `person` has a record in one of the caller's regions."""
    if principal.all_regions:
        return "true", {}
    condition = f"""EXISTS (
        SELECT 1 FROM source_record sr JOIN person sp ON sp.id = sr.person_id
        WHERE COALESCE(sp.merged_into, sp.id) = {person}
          AND sr.region = ANY(CAST(:scope_regions AS text[])))"""
    return condition, {"scope_regions": sorted(principal.regions)}
