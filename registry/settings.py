"""One settings class for the whole registry, read from REGISTRY_* environment variables."""

from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.errors import ConfigurationError

_GENERATED_SECRETS = ("jwt_secret", "national_id_key")


class Settings(BaseSettings):
    """Deployment settings; secrets must be given explicitly outside `dev`."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str | None = None
    data_dir: Path = Path(".registry")
    jwt_secret: str | None = None
    jwt_audience: str = "social-registry"
    jwt_issuer: str = "social-registry"
    token_ttl_seconds: int = 900
    national_id_key: str | None = None
    national_id_scheme: str = "dk_cpr"
    max_batch_records: int = 10_000
    #: Blocking keys shared by more registry records than this are too common to search.
    linkage_max_block: int = 500
    db_pool_size: int = 8
    log_level: str = "INFO"

    def secret(self, name: str) -> str:
        """Return a secret setting, failing clearly if it is missing."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"REGISTRY_{name.upper()} is not set")
        return str(value)


def _dev_secrets(data_dir: Path) -> dict[str, str]:
    """Load (or create once) the random secrets of a local dev installation."""
    path = data_dir / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    generated = {name: secrets.token_urlsafe(48) for name in _GENERATED_SECRETS}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(generated, handle)
    return generated


def load_settings() -> Settings:
    """Build settings from the environment, filling dev secrets from the data folder."""
    settings = Settings()
    missing = [name for name in _GENERATED_SECRETS if not getattr(settings, name)]
    if missing and settings.env == "prod":
        names = ", ".join(f"REGISTRY_{name.upper()}" for name in missing)
        raise ConfigurationError(f"refusing to start in prod without {names}")
    if missing:
        generated = _dev_secrets(settings.data_dir)
        settings = settings.model_copy(update={name: generated[name] for name in missing})
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, built once."""
    return load_settings()
