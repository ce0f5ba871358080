"""What the OpenAI-compatible gateway adds to a stream, against the same provider called directly.

A local OpenAI-compatible server (the test suite's fake, in its own process) streams answers
paced like a model: by default 50 tokens 20 ms apart (~50 tokens/s per stream, a cloud model's
pace); `--gap-ms 0` streams as fast as the machine allows, which measures the CPU spent per
token instead. The same streaming request, from the same `openai` SDK client, goes (a) straight
to that server and (b) through the gateway, in its own process as in production: API-key check,
limits, privacy scan and routing, the router's admission line and executor, SSE re-encoding and
the usage write. Requests alternate between the paths so machine noise hits all alike.

It prints the two figures of issue 15's goal, each against its baseline from the same run:
- the first-token p50 the gateway adds with a pinned model (sequential 2-token answers; `auto`,
  which adds the complexity score, is sampled every 4th round for comparison);
- the aggregate tokens/s of 50 concurrent streaming clients, through the gateway / directly.

    .venv/bin/python bench/bench_gateway.py              # 200 requests per path, 3 rounds of 50 streams
    .venv/bin/python bench/bench_gateway.py --quick      # 60 requests per path, 2 rounds
    .venv/bin/python bench/bench_gateway.py --gap-ms 0   # unpaced: CPU per token
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streaming import describe, start_fake_provider, throughput  # noqa: E402
import httpx  # noqa: E402
import openai  # noqa: E402

from tests.support.ports import free_port  # noqa: E402

MODEL = "fake-model"
PINNED = "gpt-4.1-mini"  # the catalog's OpenAI entry, served here by the fake server
KEY = "bench-gateway-key-0123456789"
AUTO_EVERY = 4  # `auto` runs the complexity score (~0.1-0.3 s here): sampled less to keep the run short
SHORT = 2  # tokens per answer when only the first token is measured
LONG = 256  # the answer limit of the throughput clients (the provider's whole answer)
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say something."}]


def start_gateway(provider_url: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ, "DATA_DIR": data_dir, "FOUNDRY_ENABLED": "false", "OLLAMA_ENABLED": "false",
        "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": provider_url, "OPENAI_MODEL": MODEL,
        "GATEWAY_API_KEYS": f"{KEY}:bench", "RATE_LIMIT_PER_MINUTE": "0", "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, __file__, "--serve-gateway", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit("the gateway exited")
        time.sleep(0.3)
    process.kill()
    raise SystemExit("the gateway did not become ready")


def serve_gateway(port: int) -> None:
    """The gateway alone on a FastAPI app (the app process minus Chainlit), as in production."""
    import uvicorn
    from fastapi import FastAPI

    from gateway import mount_gateway
    from router import Router
    from settings import get_settings

    settings = get_settings()
    app = FastAPI()
    mount_gateway(app, Router.from_settings(settings), settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def one_stream(client: openai.AsyncOpenAI, model: str, max_tokens: int) -> tuple[float, float, int]:
    """(time to first token, total time, completion tokens) of one streamed answer."""
    started = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=max_tokens, temperature=0.7, stream=True,
        stream_options={"include_usage": True},
    )
    usage = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        usage = chunk.usage or usage
    assert first is not None and usage is not None and usage.completion_tokens > 0
    return first - started, time.perf_counter() - started, usage.completion_tokens


async def measure(provider_url: str, gateway_url: str, requests: int, concurrency: int, rounds: int) -> None:
    # Idle connections are dropped before the servers drop them (uvicorn after 5 s): reusing one the
    # server is closing fails the request (httpx does not retry a POST).
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10,
                          keepalive_expiry=2.0)
    direct = openai.AsyncOpenAI(api_key="bench", base_url=provider_url, max_retries=0,
                                http_client=httpx.AsyncClient(limits=limits, timeout=60))
    through = openai.AsyncOpenAI(api_key=KEY, base_url=gateway_url + "/v1", max_retries=0,
                                 http_client=httpx.AsyncClient(limits=limits, timeout=60))
    direct_name, pinned_name, auto = "provider directly", f"gateway, model {PINNED}", "gateway, model auto"
    paths = {direct_name: (direct, MODEL), pinned_name: (through, PINNED), auto: (through, "auto")}
    for _ in range(10):  # warm up connections, the embedder of `auto`, the database
        for client, model in paths.values():
            await one_stream(client, model, SHORT)

    print(f"First token: {requests} sequential {SHORT}-token answers per path ({requests // AUTO_EVERY} for auto)")
    samples: dict[str, list] = {name: [] for name in paths}
    for index in range(requests):
        for name, (client, model) in paths.items():
            if name != auto or index % AUTO_EVERY == 0:
                samples[name].append(await one_stream(client, model, SHORT))
    figures = {name: describe(name, values) for name, values in samples.items()}
    base = figures[direct_name]
    for name in (pinned_name, auto):
        print(f"  {name}: adds {figures[name]['ttft50'] - base['ttft50']:+.2f} ms to the first-token p50")

    print(f"\nThroughput: {concurrency} concurrent streaming clients, {rounds} rounds per path")
    rates = await throughput({name: (lambda c=client, m=model: one_stream(c, m, LONG))
                              for name, (client, model) in paths.items() if name != auto},
                             concurrency, rounds, units=lambda result: result[2])
    for name, rate in rates.items():
        print(f"  {name:<28} {rate:8.0f} tokens/s")

    print("\nIssue 15's goals (baseline: the provider directly, same run)")
    print(f"  added first-token p50, model pinned: {figures[pinned_name]['ttft50'] - base['ttft50']:+.2f} ms (goal <= 5 ms)")
    print(f"  {concurrency} streams, gateway / direct tokens/s: {rates[pinned_name] / rates[direct_name]:.2f} "
          "(goal >= 0.8)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 requests per path, 2 throughput rounds")
    parser.add_argument("--requests", type=int, help="sequential requests per path (default 200)")
    parser.add_argument("--chunks", type=int, default=50, help="tokens (text chunks) per whole answer")
    parser.add_argument("--gap-ms", type=float, default=20.0, help="pause after each token; 0: as fast as possible")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve-gateway", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_gateway:
        serve_gateway(args.serve_gateway)
        return
    requests = args.requests or (60 if args.quick else 200)
    rounds = 2 if args.quick else 3
    provider, provider_url = start_fake_provider(args.chunks, args.gap_ms)
    with tempfile.TemporaryDirectory() as data_dir:
        gateway, gateway_url = start_gateway(provider_url, data_dir)
        try:
            pace = f"{args.gap_ms:g} ms apart" if args.gap_ms else "unpaced"
            print(f"Fake provider {provider_url} ({args.chunks} tokens per answer, {pace}), gateway {gateway_url}\n")
            asyncio.run(measure(provider_url, gateway_url, requests, args.concurrency, rounds))
        finally:
            for process in (gateway, provider):
                process.terminate()
                process.wait(timeout=15)


if __name__ == "__main__":
    main()
