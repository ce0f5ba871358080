"""Foundry Local, for real: the embedded SmolLM2 model running in this process."""

from __future__ import annotations

import time

from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta

COUNTING = [ChatMessage("user", "Count from 1 to 300, one number per line.")]


async def test_a_short_greedy_generation_returns_text_and_usage(foundry_backend):
    params = GenerationParams(model=foundry_backend.model_name, max_tokens=16, temperature=0)
    chunks = [c async for c in foundry_backend.stream([ChatMessage("user", "What is the capital of France?")], params)]

    text = "".join(c.text for c in chunks if isinstance(c, TextDelta))
    end = chunks[-1]
    assert text.strip()
    assert isinstance(end, StreamEnd) and end.usage.prompt_tokens > 5
    assert 0 < end.usage.completion_tokens <= 16
    assert [c for c in chunks if isinstance(c, StreamEnd)] == [end]


async def test_health_and_models_name_the_loaded_model(foundry_backend):
    health = await foundry_backend.health()
    assert health.available and health.models == (foundry_backend.model_name,)
    assert await foundry_backend.models() == [foundry_backend.model_name]
    assert foundry_backend.kind == "local"


async def test_closing_the_stream_early_cancels_the_generation(foundry_backend):
    """The backend has one worker: the next request can only finish quickly if the first one really stopped."""
    params = GenerationParams(model=foundry_backend.model_name, max_tokens=400, temperature=0)
    started = time.monotonic()
    full = [c async for c in foundry_backend.stream(COUNTING, params)]
    full_s = time.monotonic() - started
    assert full[-1].usage.completion_tokens > 60  # long enough that stopping early is measurable

    stream = foundry_backend.stream(COUNTING, params)
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    started = time.monotonic()
    short = [c async for c in foundry_backend.stream(COUNTING, GenerationParams(model=foundry_backend.model_name,
                                                                                 max_tokens=1, temperature=0))]
    assert short[-1].usage.completion_tokens == 1
    assert time.monotonic() - started < full_s / 2
