"""The gateway's admission: a refused limit becomes the OpenAI error a client expects, before any model runs."""

from __future__ import annotations

import openai
import pytest
from prometheus_client import REGISTRY

from tests.support.gateway_server import ADMIN_KEY, CLOUD_MODEL, LOCAL_MODEL, start_gateway

HELLO = [{"role": "user", "content": "Say hello."}]


def _rate_refusals() -> float:
    return REGISTRY.get_sample_value("hybrid_chat_limit_refusals_total", {"limit": "rate"}) or 0.0


async def test_over_the_rate_limit_the_client_gets_429_with_retry_after_and_admins_do_not(tmp_path):
    async for running in start_gateway(tmp_path, RATE_LIMIT_PER_MINUTE=2):
        client = running.client()
        refusals_before = _rate_refusals()
        for _ in range(2):
            await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        assert caught.value.body["code"] == "rate" and caught.value.body["type"] == "rate_limit_exceeded"
        assert "too fast" in caught.value.message
        assert int(caught.value.response.headers["retry-after"]) > 0
        assert _rate_refusals() == refusals_before + 1, "the refusal is counted for /metrics"
        for _ in range(3):  # the admin is exempt
            await running.client(ADMIN_KEY).chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        assert len(running.local.generation_requests()) == 5


async def test_over_the_daily_budget_a_cloud_request_is_answered_locally_and_says_why(tmp_path):
    async for running in start_gateway(tmp_path, DAILY_TOKEN_BUDGET=20):
        client = running.client()
        for _ in range(2):  # 15 tokens each: the second starts under the budget
            first = await client.chat.completions.create(model=CLOUD_MODEL, messages=HELLO)
        assert first.model == CLOUD_MODEL
        spent = await client.chat.completions.with_raw_response.create(model=CLOUD_MODEL, messages=HELLO)
        completion = spent.parse()
        assert completion.model == LOCAL_MODEL and spent.headers["x-hybrid-route"] == "local"
        assert any("daily budget of 20 tokens is used up" in reason for reason in completion.x_hybrid["reasons"])
        assert len(running.cloud.generation_requests()) == 2, "nothing more reached the cloud"
        admin = await running.client(ADMIN_KEY).chat.completions.create(model=CLOUD_MODEL, messages=HELLO)
        assert admin.model == CLOUD_MODEL, "admins have no budget"


async def test_a_too_long_message_is_413_and_never_reaches_a_model(tmp_path):
    async for running in start_gateway(tmp_path, MAX_MESSAGE_CHARS=50):
        long = [{"role": "user", "content": "x" * 51}]
        with pytest.raises(openai.APIStatusError) as caught:
            await running.client().chat.completions.create(model=LOCAL_MODEL, messages=long)
        assert caught.value.status_code == 413 and caught.value.body["code"] == "message_too_long"
        assert "51 characters; the limit is 50" in caught.value.message
        assert not running.local.generation_requests()
