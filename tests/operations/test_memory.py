"""Freed native memory leaves the process: what the embedded model's worker threads do, in a child process.

The child frees one large block (glibc then raises its mmap threshold above that size), then, on
a worker thread, allocates and touches 40 blocks of 4 MB with a small live allocation after each,
as the model's buffers sit among the runtime's long-lived ones, and frees the large blocks.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from operations.memory import THRESHOLD_VARIABLE, return_freed_memory

ROOT = Path(__file__).resolve().parents[2]
WORKER = textwrap.dedent("""
    import ctypes, sys, threading
    from operations.memory import return_freed_memory

    print(return_freed_memory())
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    MB = 1 << 20

    def resident_mb():
        return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) // 1024

    def answer_buffers():
        libc.free(libc.malloc(8 * MB))
        before = resident_mb()
        large, small = [], []
        for _ in range(40):
            block = libc.malloc(4 * MB)
            ctypes.memset(block, 1, 4 * MB)
            large.append(block)
            small.append(libc.malloc(64))
        for block in large:
            libc.free(block)
        print(resident_mb() - before)

    worker = threading.Thread(target=answer_buffers)
    worker.start()
    worker.join()
""")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator, read from /proc")


def run_worker(**env: str) -> tuple[str, int]:
    """(what return_freed_memory returned, MB still resident after the large blocks were freed)."""
    result = subprocess.run([sys.executable, "-c", WORKER], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", **env})
    returned, kept = result.stdout.split()
    return returned, int(kept)


def test_the_large_blocks_a_worker_thread_freed_leave_the_process():
    returned, kept_mb = run_worker()
    assert returned == "True"
    assert kept_mb < 16, f"{kept_mb} MB of the 160 MB freed stayed resident"


def test_the_operators_own_glibc_setting_wins():
    returned, _ = run_worker(**{THRESHOLD_VARIABLE: "65536"})
    assert returned == "False"


def test_it_reports_whether_it_applied(monkeypatch):
    monkeypatch.setenv(THRESHOLD_VARIABLE, "131072")
    assert return_freed_memory() is False
