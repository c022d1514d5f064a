"""Short-lived JWTs: HS256 only (explicit allow-list), key id, audience and issuer checked."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from jose import JWTError, jwt

from registry.core.errors import NotAuthenticated
from registry.core.settings import Settings

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]
_INVALID = "the token is not valid"


def key_id(secret: str) -> str:
    """The public name of a signing key: a short digest, so the key itself never shows."""
    return hashlib.sha256(b"registry-jwt-kid\0" + secret.encode()).hexdigest()[:16]


def verification_keys(settings: Settings) -> dict[str, str]:
    """Every key a token may be signed with, by key id: the current one and the previous."""
    keys = {key_id(old): old for old in settings.jwt_previous_secrets if old}
    current = settings.secret("jwt_secret")
    keys[key_id(current)] = current
    return keys


def issue_token(
    subject: str,
    settings: Settings,
    version: int = 0,
    *,
    audience: str | None = None,
    now: int | None = None,
    expires: int | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Sign an access token for a subject ("user:<id>" or "client:<id>"); returns (token, ttl).

    `version` is the subject's token version: bumping it in the database revokes the token.
    A dashboard session token names its own `audience`, an `expires` no later than its
    session's end and the session's claims in `extra`.
    """
    now = int(time.time()) if now is None else now
    end = now + settings.token_ttl_seconds if expires is None else expires
    claims = {
        **(extra or {}),
        "sub": subject,
        "aud": audience or settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "nbf": now,
        "exp": end,
        "jti": secrets.token_urlsafe(12),
        "ver": version,
    }
    ttl = end - now
    current = settings.secret("jwt_secret")
    token = jwt.encode(claims, current, algorithm=ALGORITHM, headers={"kid": key_id(current)})
    return token, ttl


def claimed_subject(token: str) -> str | None:
    """The subject a token claims, unverified: only for the audit trail of a refusal."""
    try:
        subject = jwt.get_unverified_claims(token).get("sub")
    except (JWTError, AttributeError):
        return None
    return subject[:150] if isinstance(subject, str) else None


def decode_token(token: str, settings: Settings, audience: str | None = None) -> dict[str, Any]:
    """Verify algorithm, key id, signature, audience, issuer and expiry; any failure is a 401.

    The audience is the API's unless named (a dashboard session token has its own, so it is
    no API token).
    """
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise NotAuthenticated(_INVALID)
        key = verification_keys(settings).get(str(header.get("kid")))
        if key is None:
            raise NotAuthenticated(_INVALID)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALLOWED_ALGORITHMS,
            audience=audience or settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require_exp": True, "require_sub": True, "require_aud": True},
        )
    except JWTError as exc:
        raise NotAuthenticated(_INVALID) from exc
    if not isinstance(claims.get("ver"), int) or isinstance(claims.get("ver"), bool):
        raise NotAuthenticated(_INVALID)
    return claims
