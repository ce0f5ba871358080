"""GPT backend: the real `openai` client against a local server speaking chat-completions SSE."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from router.backends.gpt import GPTBackend
from router.errors import AuthenticationFailed, BackendError, BackendUnavailable, BadRequest, RateLimited
from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta
from tests.support.fake_servers import Fail, Reply
from tests.support.secret import SECRET

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello"),
            ChatMessage("user", "Greet the world")]
PARAMS = GenerationParams(model="gpt-test", max_tokens=64, temperature=0.0)


@pytest.fixture
async def gpt():
    """Makes GPT backends for the test, and closes their HTTP sessions after it."""
    made: list[GPTBackend] = []

    def make(server, secret) -> GPTBackend:
        made.append(GPTBackend(model="gpt-test", api_key=secret, base_url=server.base_url, read_timeout_s=5.0))
        return made[-1]

    yield make
    for backend in made:
        await backend.aclose()


async def collect(backend, messages=MESSAGES, params=PARAMS):
    deltas, ends = [], []
    async for chunk in backend.stream(messages, params):
        (deltas if isinstance(chunk, TextDelta) else ends).append(chunk)
    return "".join(d.text for d in deltas), ends


async def test_streams_text_then_usage_from_the_final_chunk(gpt, openai_server, secret):
    text, ends = await collect(gpt(openai_server, secret))

    assert text == "Hello, world!"
    assert ends == [StreamEnd(usage=ends[0].usage, finish_reason="stop")]
    assert (ends[0].usage.prompt_tokens, ends[0].usage.completion_tokens) == (11, 4)
    request = openai_server.generation_requests()[0]
    assert request.body["stream"] is True and request.body["stream_options"] == {"include_usage": True}
    assert [m["role"] for m in request.body["messages"]] == ["system", "user", "assistant", "user"]
    assert request.body["max_tokens"] == 64
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


async def test_length_finish_reason_is_reported(gpt, openai_server, secret):
    openai_server.script = [Reply(finish_reason="length")]
    _, ends = await collect(gpt(openai_server, secret))
    assert ends[0].finish_reason == "length"


async def test_without_a_key_it_is_unavailable_and_sends_nothing(gpt, openai_server):
    backend = gpt(openai_server, SecretStr(""))

    health = await backend.health()

    assert not health.available and "OPENAI_API_KEY" in health.reason
    with pytest.raises(BackendUnavailable):
        await collect(backend)
    assert openai_server.requests == []


async def test_health_lists_the_servers_models(gpt, openai_server, secret):
    health = await gpt(openai_server, secret).health()
    assert health.available and health.models == ("gpt-test",)


async def test_unreachable_server_is_unavailable_naming_the_setting_not_the_address(secret, caplog):
    caplog.set_level(logging.INFO)
    backend = GPTBackend(model="gpt-test", api_key=secret, base_url="http://127.0.0.1:9/v1", connect_timeout_s=1)
    health = await backend.health()
    assert not health.available and "OPENAI_BASE_URL" in health.reason
    assert "127.0.0.1" not in health.reason, "reasons are shown to users (profiles, route step)"
    assert "127.0.0.1:9" in caplog.text, "the log keeps the address"


async def test_401_is_not_transient_and_never_shows_the_key(gpt, openai_server, secret, caplog):
    openai_server.script = [Fail(401, message=f"Incorrect API key provided: {SECRET}")]
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthenticationFailed) as caught:
        await collect(gpt(openai_server, secret))

    error = caught.value
    assert not error.transient and error.status_code == 401
    assert "OPENAI_API_KEY" in str(error)
    for text in (str(error), repr(error), error.message, caplog.text, str(error.__cause__), str(error.__context__)):
        assert SECRET not in text
        assert SECRET[-10:] not in text


async def test_429_carries_retry_after(gpt, openai_server, secret):
    openai_server.script = [Fail(429, headers={"Retry-After": "7"})]
    with pytest.raises(RateLimited) as caught:
        await collect(gpt(openai_server, secret))
    assert caught.value.transient and caught.value.retry_after == 7.0


async def test_500_is_transient(gpt, openai_server, secret):
    openai_server.script = [Fail(500)]
    with pytest.raises(BackendError) as caught:
        await collect(gpt(openai_server, secret))
    assert caught.value.transient and caught.value.status_code == 500


async def test_400_is_a_bad_request(gpt, openai_server, secret):
    openai_server.script = [Fail(400)]
    with pytest.raises(BadRequest):
        await collect(gpt(openai_server, secret))


async def test_text_that_is_not_valid_unicode_is_a_bad_request_and_nothing_is_sent(gpt, openai_server, secret):
    with pytest.raises(BadRequest, match="not valid Unicode") as caught:
        await collect(gpt(openai_server, secret), [ChatMessage("user", "a lone surrogate \ud800")])
    assert not caught.value.transient and "codec" not in str(caught.value)
    assert not openai_server.generation_requests()


async def test_connection_dropped_mid_stream_is_a_transient_error_after_the_first_text(gpt, openai_server, secret):
    openai_server.script = [Reply(drop_after=2)]
    seen = []
    with pytest.raises(BackendError) as caught:
        async for chunk in gpt(openai_server, secret).stream(MESSAGES, PARAMS):
            seen.append(chunk)
    assert [c.text for c in seen] == ["Hello", ", "]
    assert caught.value.transient
