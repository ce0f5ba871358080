"""Stopping a server process a test started, so none outlives its test."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it still runs after `timeout` seconds; either way it is reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
