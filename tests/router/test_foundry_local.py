"""Foundry Local, for real: the embedded SmolLM2 model running in this process."""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest
from foundry_local_sdk.exception import FoundryLocalException

from router.backends import foundry_local
from router.errors import BackendError, BadRequest
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

    Uncancelled, this greedy story runs to its 300-token limit. The same one-token request is
    timed on an idle backend and right after closing the story early: cancelled, the two take
    about as long; not cancelled, the second also waits for the ~289 tokens left of the story,
    whose pace is measured in the same moment.
    """
    short_params = GenerationParams(model=foundry_backend.model_name, max_tokens=1, temperature=0)

    async def short_request() -> float:
        started = time.monotonic()
        short = [c async for c in foundry_backend.stream(STORY, short_params)]
        assert short[-1].usage.completion_tokens == 1
        return time.monotonic() - started

    idle = await short_request()
    stream = foundry_backend.stream(STORY, dataclasses.replace(short_params, max_tokens=300))
    assert isinstance(await anext(stream), TextDelta)  # past the prompt: from here on it is token pace
    started = time.monotonic()
    for _ in range(10):
        assert isinstance(await anext(stream), TextDelta)
    seconds_per_token = (time.monotonic() - started) / 10
    await stream.aclose()

    after_cancel = await short_request()
    # Half of the remaining tokens' time as the margin: noise stays well below it, an
    # uncancelled story would exceed it twice over.
    assert after_cancel < idle + 140 * seconds_per_token


@pytest.mark.parametrize(("messages", "says"), [
    ([ChatMessage("user", "")], "no text"),
    ([ChatMessage("user", "漢字" * 6000)], "too long"),  # ~24,000 tokens in 12,000 characters
    ([ChatMessage("user", "hi \ud800")], "not valid Unicode"),
])
async def test_a_request_the_model_cannot_take_is_a_bad_request_and_only_the_log_has_the_runtimes_text(
    foundry_backend, caplog, messages, says,
):
    params = GenerationParams(model=foundry_backend.model_name, max_tokens=4, temperature=0)
    with caplog.at_level(logging.WARNING, logger="router.backends.foundry_local"):
        with pytest.raises(BadRequest) as caught:
            [c async for c in foundry_backend.stream(messages, params)]
    assert says in caught.value.message
    assert ".cc" not in str(caught.value) and "fl::" not in str(caught.value) and "codec" not in str(caught.value)
    assert caplog.records and caplog.records[-1].exc_info, "the log keeps the runtime's own error"


def test_an_internal_runtime_error_is_a_backend_failure_without_its_text():
    error = foundry_local.classify_failure(FoundryLocalException("session.cc:88 fl::Run() out of memory", error_code=2), "fl")
    assert type(error) is BackendError and error.backend == "fl"
    assert ".cc" not in error.message and "memory" not in error.message
