"""Memory freed after a load goes back to the system, instead of staying with the process for good.

The embedded model's runtime allocates large buffers for every answer and token
from its worker threads. glibc maps a block above its mmap threshold on its own and unmaps it
when freed, but each such free raises the threshold (up to 32 MB), so from the first answers on
these buffers come from the threads' malloc arenas, where freed memory stays resident for reuse
and fragments: 100 sessions x 2 messages took the process from 0.96 GB idle to 5.96 GB and it kept
5.46 GB (bench/bench_memory_under_load.py). A fixed threshold (mallopt(3) `M_MMAP_THRESHOLD`, which
also stops it from rising) keeps every large block mapped on its own, so a finished answer's buffers
leave with it: 0.55 / 1.32 / 0.58 GB. Python's own objects were not what stayed: under 1 MB after
a load (tracemalloc), and `malloc_trim(0)` alone gave back all the rest.
"""

from __future__ import annotations

import ctypes
import os

#: mallopt(3)'s parameter number of the mmap threshold (glibc's malloc.h).
_M_MMAP_THRESHOLD = -3
#: glibc's own starting threshold (128 KiB), kept from rising: blocks from here up are mapped on their own.
MMAP_THRESHOLD_BYTES = 128 * 1024
#: glibc's variable for the same setting; when the operator sets it, it wins.
THRESHOLD_VARIABLE = "MALLOC_MMAP_THRESHOLD_"


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold for this process; False where it does not apply (not glibc, or set by the operator).

    Call it at start-up, before the model allocates: it governs the blocks allocated after it.
    """
    if THRESHOLD_VARIABLE in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): their allocators have no such threshold to fix
        return False
    return libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
