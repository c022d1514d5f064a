"""Password rules: a minimum length and no password from the list of common ones.

The list (`common_passwords.txt`, shipped in the package) is generated offline and
reproducibly by `python -m registry.access.password_policy > common_passwords.txt`: the
most common passwords of the public breach top lists, English and Danish words people use,
keyboard walks and digit runs, each with the suffixes people add to reach a length rule
(entries of 10+ characters: shorter ones fail the length rule anyway).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from itertools import product
from pathlib import Path

from registry.core.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_LIST = Path(__file__).with_name("common_passwords.txt")

_BASES = """
123456 password qwerty iloveyou admin welcome monkey dragon letmein football baseball sunshine
princess master shadow superman michael trustno1 abc123 login starwars passw0rd password1 hello
freedom whatever qazwsx solo batman charlie donald jordan harley ranger hunter buster soccer
hockey killer george andrew tigger pepper ginger jessica daniel thomas summer winter spring
autumn secret access flower computer internet cheese chocolate cookie banana orange purple
silver golden diamond mustang corvette ferrari mercedes liverpool chelsea arsenal barcelona
blink182 nirvana metallica pokemon minecraft fortnite matrix zaq12wsx changeme default
administrator root toor guest user test tester temp company office system server database
registry social kommune sommer vinter foraar efteraar kodeord adgangskode hemmelig velkommen
danmark kobenhavn koebenhavn aarhus odense aalborg fodbold haandbold elskerdig hejmeddig mormor
morfar farmor farfar hund kat hest jensen nielsen hansen pedersen andersen christensen larsen
sorensen rasmussen jorgensen petersen madsen kristensen olsen maria anna sofie emma ida freja
laura peter lars jens anders niels henrik soren qwertz azerty asdfgh zxcvbn
"""
_WALKS = """
qwertyuiop qwertyuiopå asdfghjkl asdfghjklæø zxcvbnm qazwsxedc qazwsxedcrfv 1qaz2wsx
1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq1xsw2cde3 q1w2e3r4t5y6 1q2w3e4r5t6y 1q2w3e4r5t6y7u8i
qwerty123456 asdf1234asdf qweasdzxc qweasdzxc123 poiuytrewq mnbvcxz lkjhgfdsa abcdefghijkl
abcdefghijklmnop abc123abc123 aaaaaaaaaaaa
"""
_SUFFIXES = [
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "!",
    "1!",
    "123!",
    "!!",
    "01",
    "007",
    "69",
    "99",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "@123",
    "#1",
    "0",
    "00",
    "000",
    "11",
    "111",
    "321",
    "4321",
    "54321",
]
_PREFIXES = ["", "my", "ilove"]


def generate() -> list[str]:
    """The common-password list, reproducible offline (lower case, sorted, unique)."""
    words: set[str] = set()
    bases, walks = _BASES.split(), _WALKS.split()
    for base, prefix, suffix in product(bases, _PREFIXES, _SUFFIXES):
        words.add(f"{prefix}{base}{suffix}")
    for base in bases:
        words.add(base * 2)
        words.add(base * 3)
    for walk, suffix in product(walks, _SUFFIXES):
        words.add(walk + suffix)
    for digit in "0123456789":
        for length in range(6, 17):
            words.add(digit * length)
    for length in range(6, 21):
        words.add("".join(str((i + 1) % 10) for i in range(length)))
        words.add("".join(str((9 - i) % 10) for i in range(length)))
        words.add("".join("12"[i % 2] for i in range(length)))
    return sorted(w.lower() for w in words if len(w) >= 10)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, loaded once."""
    return frozenset(
        line.strip() for line in _LIST.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def _refused(rule: str, message: str, limit: int | None = None) -> InvalidInput:
    """The refusal of a password: its message, and the rule by name for a form to translate."""
    error: dict[str, object] = {"field": "password", "rule": rule, "message": message}
    if limit is not None:
        error["limit"] = limit
    return InvalidInput(message, errors=[error])


def check_password(password: str, username: str | None = None) -> None:
    """Refuse a password that is too short, too long, common, or the username itself."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _refused(
            "min_length",
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _refused(
            "max_length",
            f"password must have at most {MAX_PASSWORD_LENGTH} characters",
            MAX_PASSWORD_LENGTH,
        )
    folded = password.strip().lower()
    if len(set(folded)) < 5:
        raise _refused(
            "distinct_characters", "password must use at least 5 different characters", 5
        )
    named = bool(username) and len(str(username)) >= 4 and str(username).lower() in folded
    if folded in common_passwords() or named:
        raise _refused("common", "password is too common or contains the username; choose another")


if __name__ == "__main__":
    sys.stdout.write("\n".join(generate()) + "\n")
