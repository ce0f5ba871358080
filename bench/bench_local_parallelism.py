"""Aggregate tokens/s of the embedded model at 1, 2 and 4 parallel requests: what `LOCAL_MAX_PARALLEL` defaults to.

Each level runs the same greedy prompts through our backend, `parallel` at a time, for the
same number of requests, and divides all completion tokens by the wall time. Levels are
measured in rounds (1, 2, 4, 1, 2, 4, ...) so machine noise hits them alike; the figure is
the median of the rounds. Foundry Local's own issue #637 reports concurrent requests
slower than sequential ones on CPU: this says whether that holds on this machine.

    .venv/bin/python bench/bench_local_parallelism.py [--requests 8] [--rounds 3] [--max-tokens 96]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.backends.foundry_local import FoundryLocalBackend  # noqa: E402
from router.embedded_model import prepare_embedded_model  # noqa: E402
from router.types import ChatMessage, GenerationParams, StreamEnd  # noqa: E402
from settings import get_settings  # noqa: E402

LEVELS = (1, 2, 4)
#: A level within this share of the best throughput counts as just as fast (the noise of a shared machine).
ENOUGH = 0.1
PROMPTS = [
    "Give me three tips for learning a new language.",
    "Explain what a hash map is.",
    "Write a short story about a lighthouse keeper.",
    "Describe how rain forms.",
]


async def one(backend: FoundryLocalBackend, prompt: str, max_tokens: int) -> int:
    params = GenerationParams(model=backend.model_name, max_tokens=max_tokens, temperature=0.0)
    tokens = 0
    async for chunk in backend.stream([ChatMessage("user", prompt)], params):
        if isinstance(chunk, StreamEnd):
            tokens = chunk.usage.completion_tokens
    return tokens


async def level(backend: FoundryLocalBackend, parallel: int, requests: int, max_tokens: int) -> tuple[float, float]:
    """(aggregate tokens/s, median seconds per request) with `parallel` requests in flight at a time."""
    gate = asyncio.Semaphore(parallel)
    durations: list[float] = []

    async def timed(index: int) -> int:
        async with gate:
            started = time.perf_counter()
            tokens = await one(backend, PROMPTS[index % len(PROMPTS)], max_tokens)
            durations.append(time.perf_counter() - started)
            return tokens

    started = time.perf_counter()
    tokens = await asyncio.gather(*(timed(i) for i in range(requests)))
    return sum(tokens) / (time.perf_counter() - started), statistics.median(durations)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8, help="requests per level and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()

    settings = get_settings()
    folder = prepare_embedded_model(settings.models_dir)
    backend = FoundryLocalBackend(model=str(folder), app_data_dir=settings.data_dir / "foundry",
                                  max_parallel=max(LEVELS))
    await backend.start()
    if backend._model is None:
        raise SystemExit(f"model not loaded: {(await backend.health()).reason}")
    await one(backend, PROMPTS[0], 8)  # warm-up

    rates: dict[int, list[float]] = {n: [] for n in LEVELS}
    latencies: dict[int, list[float]] = {n: [] for n in LEVELS}
    for _ in range(args.rounds):
        for parallel in LEVELS:
            rate, latency = await level(backend, parallel, args.requests, args.max_tokens)
            rates[parallel].append(rate)
            latencies[parallel].append(latency)

    print(f"SmolLM2-135M-Instruct int4 on {os.cpu_count()} CPUs: {args.requests} requests a level, "
          f"{args.rounds} rounds, max {args.max_tokens} tokens, greedy")
    base = statistics.median(rates[1])
    for parallel in LEVELS:
        rate = statistics.median(rates[parallel])
        print(f"  {parallel} parallel: {rate:6.1f} tokens/s aggregate ({rate / base:.2f}x of 1)   "
              f"{statistics.median(latencies[parallel]):5.2f} s per request")
    best = max(statistics.median(rates[n]) for n in LEVELS)
    # More parallel requests only pay if they bring more tokens: otherwise each answer just takes longer.
    chosen = min(n for n in LEVELS if statistics.median(rates[n]) >= (1 - ENOUGH) * best)
    print(f"  FOUNDRY_MAX_PARALLEL: {chosen} (the fewest within {ENOUGH:.0%} of the best aggregate throughput)")
    await backend.aclose()


if __name__ == "__main__":
    asyncio.run(main())
