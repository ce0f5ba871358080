"""Foundry Local, for real: the embedded SmolLM2 model running in this process."""

from __future__ import annotations

import dataclasses
import time

from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta

STORY = [ChatMessage("user", "Write a very long story about a dragon who learns to cook.")]


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
    """The backend has one worker, so the next request starts only once the first one really stopped.

    Uncancelled, this greedy story runs to its 300-token limit; the pace of its first
    tokens, measured in the same moment, tells how long the rest would have taken.
    """
    params = GenerationParams(model=foundry_backend.model_name, max_tokens=300, temperature=0)
    stream = foundry_backend.stream(STORY, params)
    assert isinstance(await anext(stream), TextDelta)  # past the prompt: from here on it is token pace
    started = time.monotonic()
    for _ in range(10):
        assert isinstance(await anext(stream), TextDelta)
    seconds_per_token = (time.monotonic() - started) / 10
    await stream.aclose()

    started = time.monotonic()
    short = [c async for c in foundry_backend.stream(STORY, dataclasses.replace(params, max_tokens=1))]
    waited = time.monotonic() - started

    assert short[-1].usage.completion_tokens == 1
    # Cancelled, the wait is the short request's prompt plus a little (~35 token-times here);
    # not cancelled, it also includes the 289 tokens left of the story.
    assert waited < 150 * seconds_per_token
