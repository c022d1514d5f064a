"""Short-lived JWTs: HS256 only (explicit allow-list), audience and issuer checked."""

from __future__ import annotations

import secrets
import time
from typing import Any

from jose import JWTError, jwt

from registry.errors import NotAuthenticated
from registry.settings import Settings

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]


def issue_token(subject: str, settings: Settings) -> tuple[str, int]:
    """Sign an access token for a subject ("user:<id>" or "client:<id>"); returns (token, ttl)."""
    now = int(time.time())
    ttl = settings.token_ttl_seconds
    claims = {
        "sub": subject,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, settings.secret("jwt_secret"), algorithm=ALGORITHM), ttl


def decode_token(token: str, settings: Settings) -> dict[str, Any]:
    """Verify signature, algorithm, audience, issuer and expiry; any failure is a 401."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise NotAuthenticated("the token is not valid")
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret("jwt_secret"),
            algorithms=ALLOWED_ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require_exp": True, "require_sub": True, "require_aud": True},
        )
    except JWTError as exc:
        raise NotAuthenticated("the token is not valid") from exc
    return claims
