"""One settings class for the whole registry, read from REGISTRY_* environment variables."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import PositiveFloat, PositiveInt, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkage import PAIR_BLOCK, SINGLE_BLOCK
from registry.core.errors import ConfigurationError

_GENERATED_SECRETS = ("jwt_secret", "national_id_key")


#: The default k of disclosure control (REGISTRY_SUPPRESSION_K): counts below it are hidden.
DEFAULT_SUPPRESSION_K = 5


class Settings(BaseSettings):
    """Deployment settings; secrets must be given explicitly outside `dev`."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    env: Literal["dev", "test", "prod", "bench"] = "dev"
    #: The application's connection: the least-privilege role `registry_app` (core/roles.py).
    database_url: str | None = None
    #: The owner's (`registry_owner`): migrations and partition upkeep. When unset, `registry db
    #: upgrade` uses REGISTRY_DATABASE_URL and the other commands migrate nothing.
    owner_database_url: str | None = None
    #: A superuser's, for `registry db roles` only (creates the two roles and hands the
    #: database to the owner); never needed by the running registry.
    admin_database_url: str | None = None
    #: Read scaling (issue 8): a streaming hot standby for overview and audit reads, used while
    #: it lags the primary by at most `replica_max_lag_seconds` (else reads go to the primary).
    replica_url: str | None = None
    replica_max_lag_seconds: PositiveFloat = 30.0
    data_dir: Path = Path(".registry")
    jwt_secret: str | None = None
    jwt_audience: str = "social-registry"
    jwt_issuer: str = "social-registry"
    token_ttl_seconds: int = 900
    #: A dashboard session renews while in use (each token lives token_ttl_seconds) up to
    #: this long after sign-in; then the user signs in again.
    session_max_seconds: int = 8 * 3600
    national_id_key: str | None = None
    national_id_scheme: str = "dk_cpr"
    max_batch_records: int = 10_000
    #: Blocking keys shared by more registry records than this are too common to search
    #: (a block is read up to this size + 1 to find out). 100: at a million persons a
    #: common family name and birth year holds hundreds, and 99.99 % of true duplicates
    #: share a key of a smaller block (bench population; docs/scaling.md).
    linkage_max_block: int = 100
    #: Registry records scored per incoming record at most (those sharing the most keys).
    linkage_max_candidates: int = 20
    #: A candidate sharing a single key must come from a block of at most this many records
    #: (two shared keys always qualify); the batch relink's two-key blocks hold at most
    #: linkage_pair_block records. See linkage/internals/pairing.py.
    linkage_single_block: int = SINGLE_BLOCK
    linkage_pair_block: int = PAIR_BLOCK
    #: Per programme, the per-batch active count is stored at most once in this many seconds.
    active_count_interval_seconds: int = 60
    db_pool_size: int = 8
    #: A request waits at most this long for a pooled connection, then answers 503.
    db_pool_timeout_seconds: PositiveFloat = 10.0
    #: Heavy reads (overview, audit listing and verify, links export, quality reports, the
    #: dashboard's overview pages): at most this many at once per principal, over all worker
    #: processes (more: 429) ...
    heavy_reads_per_principal: PositiveInt = 1
    #: ... and at most this many at once in the registry (all workers of the host), never more
    #: than `db_pool_size`, so feeds, sign-ins and person reads always find a connection and a
    #: core (more: 503 with Retry-After). Size it to the database's spare cores.
    heavy_reads_max: PositiveInt = 2
    #: A heavy read's statements are cancelled after this many seconds (503), so a runaway
    #: query cannot hold its connection for ever.
    heavy_read_timeout_seconds: PositiveInt = 60
    #: Person searches (API and dashboard) per principal in any minute (more: 429).
    person_searches_per_minute: PositiveInt = 30
    log_level: str = "INFO"
    #: Disclosure control: overview counts below k are suppressed for analysts.
    suppression_k: PositiveInt = DEFAULT_SUPPRESSION_K
    #: Hostile input and operations (issue 6): request limits, logs, shutdown, /metrics access.
    max_request_bytes: int = 16 * 1024 * 1024
    max_url_bytes: int = 8192
    max_page_size: int = 500
    log_format: Literal["json", "text"] = "json"
    db_connect_timeout_seconds: int = 5
    shutdown_grace_seconds: int = 30
    metrics_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    #: Reverse proxies (CIDR list, JSON in REGISTRY_TRUSTED_PROXIES) whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed. Empty (the default): the socket peer is the client.
    trusted_proxies: list[str] = []
    #: Earlier signing keys, still accepted for verification (never for signing) after a
    #: rotation: JSON list in REGISTRY_JWT_PREVIOUS_SECRETS. Tokens name their key by `kid`.
    jwt_previous_secrets: list[str] = []
    #: Sign-in back-off: after this many failures in a row a login name is locked ...
    login_lock_threshold: int = 5
    #: ... for this long, doubling with every further failure, up to the maximum.
    login_lock_seconds: int = 30
    login_lock_max_seconds: int = 900
    #: Off only for the audit benchmark (env dev or bench); refused anywhere else.
    audit_enabled: bool = True
    #: Key of the pseudonymised export (or REGISTRY_PSEUDONYM_KEY_FILE); kept apart from data.
    pseudonym_key: str | None = None
    pseudonym_key_file: Path | None = None
    #: Key of the signed audit anchors (or REGISTRY_AUDIT_ANCHOR_KEY_FILE); never in the database.
    audit_anchor_key: str | None = None
    audit_anchor_key_file: Path | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {network!r} is not an IP network (CIDR, e.g. 10.0.0.0/8)"
                ) from None
        return value

    @model_validator(mode="after")
    def _audit_only_off_for_benchmarks(self) -> Settings:
        if not self.audit_enabled and self.env not in ("dev", "bench"):
            raise ConfigurationError(
                f"REGISTRY_AUDIT_ENABLED=false is refused in env {self.env!r} (dev or bench only)"
            )
        return self

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
