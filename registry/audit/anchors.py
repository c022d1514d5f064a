"""Signed checkpoints of the audit chain, kept outside the database.

An anchor names the chain's newest event, its hash and how many events the chain held, at a
moment; it is signed with HMAC-SHA256 under REGISTRY_AUDIT_ANCHOR_KEY (or _FILE), a key the
database never sees. `registry audit anchor --out FILE` appends one (a JSON line) to a file
kept elsewhere (another host, write-once storage); `registry audit verify --anchors FILE`
fails when the chain no longer extends one of them. Whoever can rewrite the database can
recompute every hash, and can shorten the chain to a valid prefix: not without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from registry.audit.schemas import TrailCheck
from registry.core.errors import ConfigurationError, InvalidInput
from registry.core.settings import Settings

MIN_KEY_LENGTH = 32


@dataclass(frozen=True)
class Anchor:
    """The chain as it stood: its newest event, that event's hash, and its length."""

    event_id: int
    hash: str
    count: int
    anchored_at: str

    def signed(self, key: bytes) -> str:
        """HMAC-SHA256 of the canonical JSON of the fields, hex."""
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(key, body, hashlib.sha256).hexdigest()


def anchor_key(settings: Settings) -> bytes:
    """The anchors' signing key, from its setting or key file; refused when short or missing."""
    if settings.audit_anchor_key:
        key = settings.audit_anchor_key.encode()
    elif settings.audit_anchor_key_file:
        key = settings.audit_anchor_key_file.read_bytes().strip()
    else:
        raise ConfigurationError(
            "set REGISTRY_AUDIT_ANCHOR_KEY or REGISTRY_AUDIT_ANCHOR_KEY_FILE "
            "(kept outside the database)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(
            f"the audit anchor key must have at least {MIN_KEY_LENGTH} characters"
        )
    return key


def new_anchor(outcome: TrailCheck) -> Anchor:
    """An anchor of the chain a clean verification (`verify_chain`) found."""
    if not outcome.ok:
        raise InvalidInput("the audit chain does not verify: nothing anchored")
    if not outcome.head_id:
        raise InvalidInput("the audit trail is empty: nothing to anchor")
    return Anchor(
        event_id=outcome.head_id,
        hash=str(outcome.head),
        count=outcome.events_checked,
        anchored_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def read_anchors(path: Path, key: bytes) -> tuple[list[Anchor], list[str]]:
    """The file's anchors whose signatures hold, and a problem for every line that does not."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            sig = str(fields.pop("sig"))
            anchor = Anchor(
                event_id=int(fields["event_id"]),
                hash=str(fields["hash"]),
                count=int(fields["count"]),
                anchored_at=str(fields["anchored_at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"anchor on line {number}: not an anchor")
            continue
        if set(fields) != set(asdict(anchor)) or not hmac.compare_digest(sig, anchor.signed(key)):
            problems.append(f"anchor on line {number}: bad signature (altered, or another key)")
            continue
        anchors.append(anchor)
    return anchors, problems


def append_anchor(path: Path, anchor: Anchor, key: bytes) -> None:
    """Append the signed anchor as one JSON line (the file is created readable by us only)."""
    line = json.dumps({**asdict(anchor), "sig": anchor.signed(key)}, sort_keys=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(line + "\n")
