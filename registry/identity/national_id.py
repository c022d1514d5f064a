"""National-ID schemes (pluggable per deployment) and the keyed digest used for matching."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class IdCheck:
    """The outcome of checking one national ID: ok, or a code and message saying why not.

    A scheme that encodes them gives the birth date and the sex (`F` or `M`) it carries.
    """

    ok: bool
    code: str = ""
    message: str = ""
    birth_date: date | None = None
    sex: str | None = None


_CPR = re.compile(r"^\d{6}-?\d{4}$")


def _cpr_century(year2: int, seventh: int) -> int:
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year2 <= 36 else 1900
    return 2000 if year2 <= 57 else 1800


def check_dk_cpr(value: str) -> IdCheck:
    """Danish CPR: DDMMYY-SSSS, ten digits, whose first six are a real birth date.

    The last digit tells the sex CPR registered: odd for a man, even for a woman.
    """
    if not _CPR.match(value):
        return IdCheck(False, "invalid_format", "a CPR number has 10 digits (DDMMYYSSSS)")
    digits = value.replace("-", "")
    day, month, year2, seventh = (
        int(digits[0:2]),
        int(digits[2:4]),
        int(digits[4:6]),
        int(digits[6]),
    )
    try:
        born = date(_cpr_century(year2, seventh) + year2, month, day)
    except ValueError:
        return IdCheck(False, "invalid_date", "the CPR number's first six digits are not a date")
    return IdCheck(True, birth_date=born, sex="M" if int(digits[9]) % 2 else "F")


_GENERIC = re.compile(r"^[A-Za-z0-9-]{4,32}$")


def check_generic(value: str) -> IdCheck:
    """Any identifier of 4-32 letters, digits or dashes (for deployments without a scheme)."""
    if _GENERIC.match(value):
        return IdCheck(True)
    return IdCheck(False, "invalid_format", "a national ID has 4-32 letters, digits or '-'")


SCHEMES: dict[str, Callable[[str], IdCheck]] = {"dk_cpr": check_dk_cpr, "generic": check_generic}


def canonical(value: str) -> str:
    """The form that is digested: no separators or surrounding space, upper case."""
    return value.strip().replace("-", "").replace(" ", "").upper()


def digest(value: str, key: bytes) -> bytes:
    """Keyed digest (HMAC-SHA256) of a national ID: matchable, not reversible without the key."""
    return hmac.new(key, canonical(value).encode(), hashlib.sha256).digest()


def mask(value: str) -> str:
    """A display form that hides all but the last two characters."""
    plain = canonical(value)
    return "*" * max(len(plain) - 2, 0) + plain[-2:]
