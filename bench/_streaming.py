"""Shared by the streaming benchmarks: the fake OpenAI-compatible provider, latency figures, throughput."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

_FAKE_SERVER = Path(__file__).resolve().parent.parent / "tests" / "support" / "fake_servers.py"


def start_fake_provider(chunks: int, gap_ms: float = 0.0) -> tuple[subprocess.Popen, str]:
    """The tests' OpenAI wire-protocol fake in its own process; returns it and its base URL.

    `gap_ms` > 0 paces the chunks like a model generating them and cuts answers at the request's `max_tokens`.
    """
    command = [sys.executable, str(_FAKE_SERVER), "--chunks", str(chunks)]
    if gap_ms > 0:
        command += ["--gap-ms", str(gap_ms), "--cut-at-max-tokens"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    base_url = process.stdout.readline().strip()
    if not base_url:
        process.kill()
        raise SystemExit("the fake provider did not start")
    return process, base_url


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def describe(name: str, samples: list[tuple[float, float]]) -> dict[str, float]:
    """Print and return p50/p99 of (time to first token, total) samples given in seconds."""
    ttft = [s[0] * 1000 for s in samples]
    total = [s[1] * 1000 for s in samples]
    figures = {"ttft50": percentile(ttft, 50), "ttft99": percentile(ttft, 99),
               "total50": percentile(total, 50), "total99": percentile(total, 99)}
    print(f"  {name:<28} TTFT p50 {figures['ttft50']:7.2f} ms  p99 {figures['ttft99']:7.2f} ms   "
          f"total p50 {figures['total50']:7.2f} ms  p99 {figures['total99']:7.2f} ms")
    return figures


async def throughput(paths: dict, concurrency: int, rounds: int, units=lambda result: 1) -> dict[str, float]:
    """Requests per second of each path (or `units` of their results per second, such as tokens);
    rounds interleave so drift hits every path alike."""
    busy = dict.fromkeys(paths, 0.0)
    done = dict.fromkeys(paths, 0)
    for _ in range(rounds):
        for name, run_one in paths.items():
            started = time.perf_counter()
            results = await asyncio.gather(*(run_one() for _ in range(concurrency)))
            busy[name] += time.perf_counter() - started
            done[name] += sum(units(result) for result in results)
    return {name: done[name] / seconds for name, seconds in busy.items()}
