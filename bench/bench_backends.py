"""What the router's backend layer costs per request, and how much one app process can stream.

A local OpenAI-compatible server (the test suite's fake, in its own process) streams a
fixed answer. The same requests go (a) straight through the `openai` SDK and (b)
through the router's `execute()` with the GPT backend (timeouts, breaker, retry
bookkeeping, accounting). Requests alternate between the two so machine noise hits
both alike. Then 50 concurrent streams measure the throughput of one process.

    .venv/bin/python bench/bench_backends.py            # 300 requests each, ~1 min
    .venv/bin/python bench/bench_backends.py --quick    # 100 requests each
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streaming import describe, start_fake_provider, throughput  # noqa: E402
import openai  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from router.backends.gpt import GPTBackend  # noqa: E402
from router.catalog import ModelSpec  # noqa: E402
from router.decision import RouteDecision  # noqa: E402
from router.executor import execute  # noqa: E402
from router.resilience import Resilience  # noqa: E402
from router.types import ChatMessage, Completed, TextDelta  # noqa: E402

MODEL = "fake-model"
MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Say something.")]
SPEC = ModelSpec(id="bench", label="Bench", provider="openai", model=MODEL, kind="cloud", context_length=8192,
                 input_price=0.4, output_price=1.6)


async def direct(client: openai.AsyncOpenAI) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": m.role, "content": m.content} for m in MESSAGES], max_tokens=256,
        temperature=0.7, stream=True, stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
    return first - started, time.perf_counter() - started


async def layered(backends: dict, resilience: Resilience) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    decision = RouteDecision((SPEC,), private=False, reasons=("bench",))
    async for event in execute(decision, MESSAGES, backends, max_tokens=256, resilience=resilience):
        if first is None and isinstance(event, TextDelta):
            first = time.perf_counter()
        elif isinstance(event, Completed):
            assert event.record.completion_tokens > 0
    return first - started, time.perf_counter() - started


async def main(requests: int, chunks: int, concurrency: int, rounds: int) -> None:
    server, base_url = start_fake_provider(chunks)
    try:
        client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
        backend = GPTBackend(model=MODEL, api_key=SecretStr("bench"), base_url=base_url)
        backends = {"openai": backend}
        resilience = Resilience()
        for _ in range(20):  # warm up connections and imports on both paths
            await direct(client)
            await layered(backends, resilience)

        print(f"Sequential: {requests} requests per path, {chunks} chunks per answer, server {base_url}")
        plain, routed = [], []
        for _ in range(requests):
            plain.append(await direct(client))
            routed.append(await layered(backends, resilience))
        a = describe("openai SDK directly", plain)
        b = describe("router execute()", routed)
        print(f"  overhead ratio (router / SDK): TTFT p50 {b['ttft50'] / a['ttft50']:.2f}x, "
              f"p99 {b['ttft99'] / a['ttft99']:.2f}x; total p50 {b['total50'] / a['total50']:.2f}x, "
              f"p99 {b['total99'] / a['total99']:.2f}x; added p50 {b['total50'] - a['total50']:+.2f} ms per request")

        print(f"Concurrent: {concurrency} streams at once, {rounds} rounds")
        rates = await throughput({"sdk": lambda: direct(client), "router": lambda: layered(backends, resilience)},
                                 concurrency, rounds)
        sdk_rps, router_rps = rates["sdk"], rates["router"]
        print(f"  openai SDK directly   {sdk_rps:7.1f} answers/s  {sdk_rps * chunks:8.0f} chunks/s")
        print(f"  router execute()      {router_rps:7.1f} answers/s  {router_rps * chunks:8.0f} chunks/s")
        print(f"  throughput ratio (router / SDK): {router_rps / sdk_rps:.2f}")
        await client.close()
        await backend.aclose()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 requests per path, 2 concurrent rounds")
    parser.add_argument("--requests", type=int, help="sequential requests per path (default 300)")
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per answer")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    n = args.requests or (100 if args.quick else 300)
    asyncio.run(main(n, args.chunks, args.concurrency, rounds=2 if args.quick else 4))
