"""Path and query parameters several routers share, each with its one rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Path, Query

from api.deps import SettingsDep
from registry.programmes.codes import PROGRAMME_CODE_PATTERN

#: A programme's code in the path (`/programmes/{code}/...`).
ProgrammeCodePath = Annotated[str, Path(pattern=PROGRAMME_CODE_PATTERN)]
#: An optional programme code in the query string.
ProgrammeCodeQuery = Annotated[str | None, Query(pattern=PROGRAMME_CODE_PATTERN)]


@dataclass(frozen=True)
class OverviewQuery:
    """The overview's shared query: the day, the system time, suppression and its threshold."""

    as_of: date
    recorded_at: datetime | None
    suppress: bool
    k: int


def overview_query(
    settings: SettingsDep,
    as_of: date | None = None,
    recorded_at: datetime | None = None,
    suppress: bool = False,
) -> OverviewQuery:
    """`as_of` (default today), `recorded_at` (default now), `suppress`; k from the settings."""
    return OverviewQuery(as_of or date.today(), recorded_at, suppress, settings.suppression_k)


#: The query parameters every overview answer over one day takes.
OverviewParams = Annotated[OverviewQuery, Depends(overview_query)]
