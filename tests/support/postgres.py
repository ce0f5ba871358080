"""A throw-away PostgreSQL server for tests and benchmarks (Debian's `postgresql` package).

`initdb` into a temporary folder, `postgres` on a free 127.0.0.1 port with its socket in that
folder, trust authentication, stopped and deleted at the end. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` system user (created by the Debian package).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import dies_with_the_test, stop_process, wait_until_ready

SERVICE_USER = "postgres"


def find_postgres_bin() -> Path | None:
    """The newest `/usr/lib/postgresql/<version>/bin` holding initdb, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    """One running server; `url(database)` gives a SQLAlchemy asyncpg URL."""

    def __init__(self, bin_dir: Path, root: Path, port: int, process: subprocess.Popen, user: str):
        self.bin_dir, self.root, self.port, self.process, self.user = bin_dir, root, port, process, user

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its asyncpg URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server now, as an outage would: "fast" shutdown ends the clients' sessions."""
        subprocess.run(
            _as_service_user([str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.root / "data"), "-m", "fast",
                              "-w"]),
            check=True, capture_output=True, text=True, timeout=60,
        )
        self.process.wait(timeout=30)

    def is_ready(self) -> bool:
        """Whether the server accepts connections (`pg_isready`)."""
        ready = subprocess.run([str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                               capture_output=True)
        return ready.returncode == 0

    def _psql(self, sql: str) -> None:
        subprocess.run(
            [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            check=True, capture_output=True, text=True, timeout=60,
        )


def _as_service_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SERVICE_USER, "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def running_postgres(startup_timeout: float = 60.0) -> Iterator[PostgresServer]:
    """Start a private PostgreSQL server, yield it, stop it and delete its folder."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="hybrid-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, SERVICE_USER, SERVICE_USER)
    db_user = SERVICE_USER if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    process = None
    try:
        subprocess.run(
            _as_service_user([str(bin_dir / "initdb"), "-D", str(data), "-U", db_user, "-A", "trust",
                              "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True, text=True, timeout=120,
        )
        port = free_port()
        log = open(root / "server.log", "wb")
        process = subprocess.Popen(
            _as_service_user([str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                              "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
                              "-c", "shared_buffers=32MB"]),
            # SIGTERM, not SIGKILL: as root, runuser passes it on to PostgreSQL (a smart shutdown).
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=dies_with_the_test(signal.SIGTERM),
        )
        server = PostgresServer(bin_dir, root, port, process, db_user)
        wait_until_ready(process, server.is_ready, what="postgres", timeout=startup_timeout,
                         log=lambda: (root / "server.log").read_text(errors="replace"))
        yield server
    finally:
        if process is not None:
            stop_process(process, timeout=30)  # SIGTERM = "smart" shutdown; the sessions are gone by now
        shutil.rmtree(root, ignore_errors=True)
