"""Argon2 password and secret hashing (passlib, from the maintained libpass)."""

from __future__ import annotations

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2"], deprecated="auto")
#: Verified against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = _context.hash("not-a-real-password-used-only-for-timing")


def hash_secret(secret: str) -> str:
    """Hash a password or client secret with Argon2."""
    return _context.hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """Check a secret against its hash; with no hash, spend the same time and fail."""
    if hashed is None:
        _context.verify(secret, _DUMMY_HASH)
        return False
    try:
        return bool(_context.verify(secret, hashed))
    except (ValueError, TypeError):
        return False
