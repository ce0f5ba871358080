"""What the OpenAI-compatible gateway adds per request, and how many streams one app process serves.

A local OpenAI-compatible server (the test suite's fake, in its own process) streams a
fixed answer. The same streaming request, from the same `openai` SDK client, goes
(a) straight to that server and (b) through the gateway, in its own process as in
production: API-key check (a SQLite lookup), limits, privacy scan and routing, the
router's executor, SSE re-encoding and the usage write. The gateway is measured with a
pinned model and with `auto` (which adds the complexity score, sampled every 4th round). Requests alternate
between the paths so machine noise hits all alike. Then 50 concurrent streaming
clients measure requests per second, direct and through the gateway.

    .venv/bin/python bench/bench_gateway.py            # 300 requests per path, ~1-2 min
    .venv/bin/python bench/bench_gateway.py --quick    # 100 requests per path
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


async def one_stream(client: openai.AsyncOpenAI, model: str) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=256, temperature=0.7, stream=True,
        stream_options={"include_usage": True},
    )
    usage = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        usage = chunk.usage or usage
    assert first is not None and usage is not None and usage.completion_tokens > 0
    return first - started, time.perf_counter() - started


async def measure(provider_url: str, gateway_url: str, requests: int, concurrency: int, rounds: int) -> None:
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10)
    direct = openai.AsyncOpenAI(api_key="bench", base_url=provider_url, max_retries=0,
                                http_client=httpx.AsyncClient(limits=limits, timeout=60))
    through = openai.AsyncOpenAI(api_key=KEY, base_url=gateway_url + "/v1", max_retries=0,
                                 http_client=httpx.AsyncClient(limits=limits, timeout=60))
    paths = {
        "provider directly": lambda: one_stream(direct, MODEL),
        f"gateway, model {PINNED}": lambda: one_stream(through, PINNED),
        "gateway, model auto": lambda: one_stream(through, "auto"),
    }
    for _ in range(20):  # warm up connections, the embedder of `auto`, the database
        for run_one in paths.values():
            await run_one()

    auto = "gateway, model auto"
    print(f"Sequential: {requests} streaming requests per path ({requests // AUTO_EVERY} for auto: its score is slow)")
    samples: dict[str, list] = {name: [] for name in paths}
    for index in range(requests):
        for name, run_one in paths.items():
            if name != auto or index % AUTO_EVERY == 0:
                samples[name].append(await run_one())
    figures = {name: describe(name, values) for name, values in samples.items()}
    base = figures["provider directly"]
    for name in list(paths)[1:]:
        mine = figures[name]
        print(f"  overhead of {name}: TTFT p50 +{mine['ttft50'] - base['ttft50']:.2f} ms "
              f"(x{mine['ttft50'] / base['ttft50']:.2f}), total p50 +{mine['total50'] - base['total50']:.2f} ms "
              f"(x{mine['total50'] / base['total50']:.2f}), total p99 +{mine['total99'] - base['total99']:.2f} ms")

    print(f"\nThroughput: {concurrency} concurrent streaming clients, {rounds} rounds per path")
    rates = await throughput({k: paths[k] for k in ("provider directly", f"gateway, model {PINNED}")},
                             concurrency, rounds)
    for name, rate in rates.items():
        print(f"  {name:<28} {rate:7.1f} streams/s")
    direct_rate, gateway_rate = rates.values()
    print(f"  gateway / direct: {gateway_rate / direct_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 requests per path, 2 throughput rounds")
    parser.add_argument("--requests", type=int, help="sequential requests per path (default 300)")
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per answer")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve-gateway", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_gateway:
        serve_gateway(args.serve_gateway)
        return
    requests = args.requests or (100 if args.quick else 300)
    rounds = 2 if args.quick else 4
    provider, provider_url = start_fake_provider(args.chunks)
    with tempfile.TemporaryDirectory() as data_dir:
        gateway, gateway_url = start_gateway(provider_url, data_dir)
        try:
            print(f"Fake provider {provider_url} ({args.chunks} chunks per answer), gateway {gateway_url}\n")
            asyncio.run(measure(provider_url, gateway_url, requests, args.concurrency, rounds))
        finally:
            for process in (gateway, provider):
                process.terminate()
                process.wait(timeout=15)


if __name__ == "__main__":
    main()
