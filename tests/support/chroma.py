"""A real `chroma run` server (the compose file's vector store) on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import dies_with_the_test, stop_process, wait_until_ready


@contextmanager
def running_chroma(path: Path, startup_timeout: float = 60) -> Iterator[int]:
    """Serve a Chroma store kept in `path`; yields the port once the server accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        preexec_fn=dies_with_the_test(),
    )
    try:
        wait_until_ready(process, lambda: _listening(port), what="the chroma server", timeout=startup_timeout)
        yield port
    finally:
        stop_process(process, timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
