"""Person ids: time-ordered UUIDs (version 7), as `registry_uuid7()` makes them in SQL.

Why time-ordered: see migration 0007 (a batch's new persons share index pages).
"""

from __future__ import annotations

import os
import time
import uuid


def new_person_id() -> uuid.UUID:
    """A UUID version 7: 48 bits of Unix time in milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant RFC 9562
    return uuid.UUID(int=value)
