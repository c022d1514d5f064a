"""Counting semaphores shared by the worker processes of one registry, as lock files.

A name has N slot files; taking a slot is a non-blocking exclusive ``flock`` on one of them,
giving it back closes the file. The kernel releases the lock of a process that dies, so a
crashed worker never leaks a slot. Separate opens of one file conflict even within a process,
so the same count holds for threads and for workers alike.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path


def slot_directory(registry_key: str) -> Path:
    """The lock folder of one registry (keyed by its database), private to this OS user."""
    digest = hashlib.sha256(registry_key.encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / f"registry-slots-{os.getuid()}-{digest}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


class SlotFiles:
    """Take and give back one of N slots of a name; never waits."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def take(self, name: str, slots: int) -> int | None:
        """A held slot of `name` (a file descriptor), or None when all `slots` are taken."""
        safe = hashlib.sha256(name.encode()).hexdigest()[:24]
        for index in range(slots):
            descriptor = os.open(self.directory / f"{safe}-{index}.lock", os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            return descriptor
        return None

    @staticmethod
    def give(descriptor: int) -> None:
        """Give a slot back (closing its file releases the lock)."""
        os.close(descriptor)
