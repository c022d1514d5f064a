"""A programme's code: the one rule every entry point checks it by."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

from registry.core.errors import InvalidInput

#: Upper-case letters, digits, `_` and `-`; 2 to 32 of them (as L402's codes: SEL85, BOL-TIL).
PROGRAMME_CODE_PATTERN = r"^[A-Z0-9_-]{2,32}$"
PROGRAMME_CODE_MAX = 32
_CODE = re.compile(PROGRAMME_CODE_PATTERN)

#: A programme code in a request body or settings model.
ProgrammeCode = Annotated[str, StringConstraints(pattern=PROGRAMME_CODE_PATTERN)]


def check_programme_code(code: str, field: str = "code") -> str:
    """The code itself when it follows the rule; InvalidInput naming the field otherwise."""
    if not _CODE.match(code):
        message = f"{field} must be 2-32 capital letters, digits, '_' or '-'"
        raise InvalidInput(
            message, errors=[{"field": field, "rule": "programme_code", "message": message}]
        )
    return code
