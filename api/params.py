"""Path and query parameters several routers share, each with its one rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from registry.programmes.codes import PROGRAMME_CODE_PATTERN

#: A programme's code in the path (`/programmes/{code}/...`).
ProgrammeCodePath = Annotated[str, Path(pattern=PROGRAMME_CODE_PATTERN)]
#: An optional programme code in the query string.
ProgrammeCodeQuery = Annotated[str | None, Query(pattern=PROGRAMME_CODE_PATTERN)]
