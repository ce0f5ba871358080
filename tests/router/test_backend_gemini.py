"""Gemini backend: the real `google-genai` client against a local `streamGenerateContent?alt=sse` server."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from router.backends.gemini import GeminiBackend, to_gemini_contents
from router.errors import AuthenticationFailed, BackendError, BackendUnavailable, RateLimited
from router.types import ChatMessage, GenerationParams, StreamEnd, TextDelta
from tests.support.fake_servers import Fail, Reply
from tests.support.secret import SECRET

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello"),
            ChatMessage("user", "Greet the world")]
PARAMS = GenerationParams(model="gemini-test", max_tokens=64, temperature=0.0)


def gemini(server, secret) -> GeminiBackend:
    return GeminiBackend(model="gemini-test", api_key=secret, base_url=server.base_url, total_timeout_s=10)


async def collect(backend):
    chunks = [c async for c in backend.stream(MESSAGES, PARAMS)]
    return "".join(c.text for c in chunks if isinstance(c, TextDelta)), chunks[-1]


def test_roles_map_to_system_instruction_and_user_model_turns():
    system, contents = to_gemini_contents(
        [ChatMessage("system", "A"), ChatMessage("user", "u1"), ChatMessage("user", "u2"),
         ChatMessage("assistant", "m1"), ChatMessage("system", "B"), ChatMessage("user", "u3")]
    )
    assert system == "A\n\nB"
    assert contents == [
        {"role": "user", "parts": [{"text": "u1"}, {"text": "u2"}]},
        {"role": "model", "parts": [{"text": "m1"}]},
        {"role": "user", "parts": [{"text": "u3"}]},
    ]


async def test_streams_text_with_usage_metadata(gemini_server, secret):
    text, end = await collect(gemini(gemini_server, secret))

    assert text == "Hello, world!"
    assert isinstance(end, StreamEnd) and (end.usage.prompt_tokens, end.usage.completion_tokens) == (11, 4)
    request = gemini_server.generation_requests()[0]
    assert request.path.endswith("/models/gemini-test:streamGenerateContent")
    assert request.headers["x-goog-api-key"] == SECRET
    assert request.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert [c["role"] for c in request.body["contents"]] == ["user", "model", "user"]
    assert request.body["generationConfig"]["maxOutputTokens"] == 64


async def test_max_tokens_finish_reason_is_length(gemini_server, secret):
    gemini_server.script = [Reply(finish_reason="length")]
    _, end = await collect(gemini(gemini_server, secret))
    assert end.finish_reason == "length"


async def test_health_needs_a_key_then_lists_models(gemini_server, secret):
    missing = await gemini(gemini_server, SecretStr("")).health()
    assert not missing.available and "GEMINI_API_KEY" in missing.reason
    assert gemini_server.requests == []

    health = await gemini(gemini_server, secret).health()
    assert health.available and health.models == ("gemini-test",)


@pytest.mark.parametrize("status, marker", [(401, "UNAUTHENTICATED"), (400, "API_KEY_INVALID")])
async def test_a_rejected_key_is_not_transient_and_never_shown(gemini_server, secret, caplog, status, marker):
    gemini_server.script = [Fail(status, message=f"{marker}: API key not valid: {SECRET}")]
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthenticationFailed) as caught:
        await collect(gemini(gemini_server, secret))

    error = caught.value
    assert not error.transient and "GEMINI_API_KEY" in str(error)
    for text in (str(error), repr(error), caplog.text, str(error.__context__), str(error.__cause__)):
        assert SECRET not in text


async def test_429_carries_retry_after(gemini_server, secret):
    gemini_server.script = [Fail(429, headers={"Retry-After": "3"})]
    with pytest.raises(RateLimited) as caught:
        await collect(gemini(gemini_server, secret))
    assert caught.value.retry_after == 3.0


async def test_500_is_transient(gemini_server, secret):
    gemini_server.script = [Fail(500)]
    with pytest.raises(BackendError) as caught:
        await collect(gemini(gemini_server, secret))
    assert caught.value.transient and caught.value.status_code == 500


async def test_connection_dropped_mid_stream(gemini_server, secret):
    gemini_server.script = [Reply(drop_after=2)]
    seen = []
    with pytest.raises(BackendError) as caught:
        async for chunk in gemini(gemini_server, secret).stream(MESSAGES, PARAMS):
            seen.append(chunk)
    assert [c.text for c in seen] == ["Hello", ", "] and caught.value.transient


async def test_unreachable_server_is_unavailable(secret):
    backend = GeminiBackend(model="gemini-test", api_key=secret, base_url="http://127.0.0.1:9", total_timeout_s=5)
    with pytest.raises(BackendUnavailable) as caught:
        await collect(backend)
    assert "GEMINI_BASE_URL" in caught.value.message and "127.0.0.1" not in caught.value.message
