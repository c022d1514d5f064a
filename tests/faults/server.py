"""Run the real API server (`registry serve`, uvicorn) as a child process on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[2]
SECRETS = {
    "REGISTRY_ENV": "test",
    "REGISTRY_JWT_SECRET": "fault-signing-secret-" + "s" * 32,
    "REGISTRY_NATIONAL_ID_KEY": "fault-national-id-key-" + "k" * 32,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`registry serve` on 127.0.0.1:port against database_url; start, SIGKILL, SIGTERM."""

    def __init__(self, database_url: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            **SECRETS,
            "REGISTRY_DATABASE_URL": database_url,
            "PYTHONPATH": str(PROJECT),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start and wait for /readyz to answer 200."""
        command = [
            sys.executable,
            "-c",
            "from registry.cli.main import app; app()",
            "serve",
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server not ready in {timeout}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, in-flight requests cut off."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM (graceful shutdown) and wait; the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
