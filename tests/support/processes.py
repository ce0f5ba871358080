"""Waiting for a server process a test started, and stopping it so none outlives its test."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def dies_with_the_test(signum: int = signal.SIGKILL) -> Callable[[], None]:
    """A `preexec_fn`: the child gets `signum` when the test process dies, even by SIGKILL itself,
    so no server outlives a crashed run (Linux `prctl(PR_SET_PDEATHSIG)`). The signal follows the
    thread that started the child: start it from the test's main thread, not a worker thread."""
    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)

    return arrange


def wait_until_ready(
    process: subprocess.Popen, probe: Callable[[], T], *, what: str, timeout: float,
    log: Callable[[], str] = lambda: "", interval: float = 0.2,
) -> T:
    """Call `probe` until it returns something truthy, and return that.

    Fails at once when `process` exits, or after `timeout` seconds; `log` gives what the
    process wrote, for the error. `probe` handles its own connection errors.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log()}")
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer within {timeout} s:\n{log()}")
        time.sleep(interval)


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
