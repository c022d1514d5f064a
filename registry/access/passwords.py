"""Argon2 password and secret hashing (passlib, from the maintained libpass)."""

from __future__ import annotations

import os
from functools import lru_cache

from passlib.context import CryptContext

#: Argon2 cost profiles. "standard" is passlib's default (64 MiB, 3 passes); "test" is a
#: cheap profile the test suite selects with REGISTRY_ARGON2_PROFILE=test (hundreds of logins
#: per run), refused in production. Hashes record their own parameters, so either verifies.
_PROFILES: dict[str, dict[str, int]] = {
    "standard": {},
    "test": {"argon2__memory_cost": 1024, "argon2__time_cost": 1, "argon2__parallelism": 1},
}


def _profile() -> dict[str, int]:
    name = os.environ.get("REGISTRY_ARGON2_PROFILE", "standard")
    if name not in _PROFILES:
        raise RuntimeError(f"unknown REGISTRY_ARGON2_PROFILE {name!r}")
    if name != "standard" and os.environ.get("REGISTRY_ENV") == "prod":
        raise RuntimeError("REGISTRY_ARGON2_PROFILE=test is refused in production")
    return _PROFILES[name]


@lru_cache(maxsize=1)
def _context() -> CryptContext:
    return CryptContext(schemes=["argon2"], deprecated="auto", **_profile())


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both paths cost the same."""
    return _context().hash("not-a-real-password-used-only-for-timing")


def hash_secret(secret: str) -> str:
    """Hash a password or client secret with Argon2."""
    return _context().hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """Check a secret against its hash; with no hash, spend the same time and fail."""
    if hashed is None:
        _context().verify(secret, _dummy_hash())
        return False
    try:
        return bool(_context().verify(secret, hashed))
    except (ValueError, TypeError):
        return False
