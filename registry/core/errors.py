"""One error hierarchy: every domain error carries its HTTP status and kind."""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Base of all domain errors; the API turns it into {"error", "detail"}."""

    status_code = 400
    kind = "BadRequest"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ConfigurationError(RegistryError):
    status_code = 500
    kind = "ConfigurationError"


class NotAuthenticated(RegistryError):
    status_code = 401
    kind = "NotAuthenticated"


class Forbidden(RegistryError):
    status_code = 403
    kind = "Forbidden"


class NotFound(RegistryError):
    status_code = 404
    kind = "NotFound"


class Conflict(RegistryError):
    status_code = 409
    kind = "Conflict"


class PayloadTooLarge(RegistryError):
    status_code = 413
    kind = "PayloadTooLarge"


class InvalidInput(RegistryError):
    status_code = 422
    kind = "ValidationError"
