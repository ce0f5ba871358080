"""Time to first token and tokens/s of the embedded model: through our backend vs the bare SDK.

Both paths run the same prompts with the same greedy settings in the same process,
alternating, so machine noise hits them alike. The ratio (backend / SDK) is the
overhead of our asyncio bridge; the absolute figures describe the machine.

    .venv/bin/python bench/bench_embedded_model.py [--runs 20] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.backends.foundry_local import FoundryLocalBackend  # noqa: E402
from router.embedded_model import prepare_embedded_model  # noqa: E402
from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta  # noqa: E402
from settings import get_settings  # noqa: E402

PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for learning a new language.",
    "Explain what a hash map is in two sentences.",
    "Write a haiku about the sea.",
]


async def through_backend(backend: FoundryLocalBackend, prompt: str, max_tokens: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = None
    tokens = 0
    params = GenerationParams(model=backend.model_name, max_tokens=max_tokens, temperature=0.0)
    async for chunk in backend.stream([ChatMessage("user", prompt)], params):
        if isinstance(chunk, TextDelta) and first is None:
            first = time.perf_counter()
        elif isinstance(chunk, StreamEnd):
            tokens = chunk.usage.completion_tokens
    return first - started, time.perf_counter() - started, tokens


def through_sdk(model, prompt: str, max_tokens: int) -> tuple[float, float, int]:
    from foundry_local_sdk import ChatSession, MessageItem, Request, RequestOptions, SearchOptions, TextItem

    started = time.perf_counter()
    first = None
    with ChatSession(model) as session, Request() as request:
        session.set_options(RequestOptions(search=SearchOptions(temperature=0.0, max_output_tokens=max_tokens,
                                                                do_sample=False)))
        session.set_streaming(True)
        request.add_item(MessageItem.user(prompt))
        with session.process_streaming_request(request) as stream:
            for item in stream:
                if isinstance(item, TextItem) and first is None:
                    first = time.perf_counter()
            with stream.final_response as final:
                tokens = final.get_usage().completion_tokens
    return first - started, time.perf_counter() - started, tokens


def describe(name: str, samples: list[tuple[float, float, int]]) -> tuple[float, float]:
    ttft = statistics.median(s[0] for s in samples)
    rates = [s[2] / (s[1] - s[0]) for s in samples if s[1] > s[0] and s[2] > 1]
    rate = statistics.median(rates)
    print(f"{name:>8}: time to first token p50 {ttft * 1000:7.1f} ms   decode {rate:6.1f} tokens/s")
    return ttft, rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    settings = get_settings()
    folder = prepare_embedded_model(settings.models_dir)
    backend = FoundryLocalBackend(model=str(folder), app_data_dir=settings.data_dir / "foundry")
    await backend.start()
    if backend._model is None:
        raise SystemExit(f"model not loaded: {(await backend.health()).reason}")

    await through_backend(backend, PROMPTS[0], 8)  # warm-up, both paths share the loaded model
    ours, sdk = [], []
    for run in range(args.runs):
        prompt = PROMPTS[run % len(PROMPTS)]
        ours.append(await through_backend(backend, prompt, args.max_tokens))
        sdk.append(await asyncio.to_thread(through_sdk, backend._model, prompt, args.max_tokens))

    print(f"SmolLM2-135M-Instruct int4, {args.runs} runs a path, max {args.max_tokens} tokens, greedy")
    ttft_ours, rate_ours = describe("backend", ours)
    ttft_sdk, rate_sdk = describe("SDK", sdk)
    print(f"   ratio: time to first token {ttft_ours / ttft_sdk:.2f}x   tokens/s {rate_ours / rate_sdk:.2f}x "
          "(backend / SDK)")
    await backend.aclose()


if __name__ == "__main__":
    asyncio.run(main())
