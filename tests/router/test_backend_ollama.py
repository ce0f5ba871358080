"""Ollama backend: the real `openai` client against a local server speaking Ollama's `/v1` routes."""

from __future__ import annotations

import pytest

from router.backends.ollama import OllamaBackend
from router.errors import BackendError, BackendUnavailable
from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta
from tests.support.fake_servers import Reply

MESSAGES = [ChatMessage("user", "Hi")]


@pytest.fixture
async def ollama():
    """Makes Ollama backends for the test, and closes their HTTP sessions after it."""
    made: list[OllamaBackend] = []

    def make(server, model="llama-test:1b") -> OllamaBackend:
        made.append(OllamaBackend(model=model, base_url=server.base_url, read_timeout_s=5.0))
        return made[-1]

    yield make
    for backend in made:
        await backend.aclose()


async def test_streams_with_usage_and_needs_no_key(ollama, ollama_server):
    chunks = [c async for c in ollama(ollama_server).stream(MESSAGES, GenerationParams(model="llama-test:1b"))]

    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Hello, world!"
    assert isinstance(chunks[-1], StreamEnd) and chunks[-1].usage.completion_tokens == 4
    assert ollama(ollama_server).kind == "local"


async def test_models_are_listed_from_the_server(ollama, ollama_server):
    backend = ollama(ollama_server)
    assert await backend.models() == ["llama-test:1b"]
    health = await backend.health()
    assert health.available and health.models == ("llama-test:1b",)


async def test_a_model_not_pulled_is_unavailable_with_the_pull_command(ollama, ollama_server):
    health = await ollama(ollama_server, model="qwen3:4b").health()
    assert not health.available and "ollama pull qwen3:4b" in health.reason


async def test_unknown_model_at_generation_is_unavailable_not_retried(ollama, ollama_server):
    with pytest.raises(BackendUnavailable) as caught:
        async for _ in ollama(ollama_server).stream(MESSAGES, GenerationParams(model="missing:1b")):
            pass
    assert caught.value.status_code == 404 and not caught.value.transient


async def test_no_server_means_unavailable_with_a_hint():
    backend = OllamaBackend(model="llama-test:1b", base_url="http://127.0.0.1:9/v1", connect_timeout_s=1)
    health = await backend.health()
    assert not health.available and "OLLAMA_BASE_URL" in health.reason and "127.0.0.1" not in health.reason
    assert await backend.models() == []


async def test_connection_dropped_mid_stream(ollama, ollama_server):
    ollama_server.script = [Reply(drop_after=1)]
    seen = []
    with pytest.raises(BackendError) as caught:
        async for chunk in ollama(ollama_server).stream(MESSAGES, GenerationParams(model="llama-test:1b")):
            seen.append(chunk)
    assert [c.text for c in seen] == ["Hello"] and caught.value.transient


async def test_a_model_pulled_without_a_tag_is_found_as_latest(ollama, ollama_server):
    ollama_server.models = ("llama3.2:latest",)
    assert (await ollama(ollama_server, model="llama3.2").health()).available
