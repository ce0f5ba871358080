"""Rate limit, daily budgets and size limits: each refuses with a message a user can act on."""

from __future__ import annotations

import openai
import pytest
from prometheus_client import REGISTRY

from _gateway_server import ADMIN_KEY, LOCAL_MODEL, start_gateway
from gateway import LimitExceeded, Limits
from persistence import UsageRecord, create_engine, record_usage, upgrade_database

HELLO = [{"role": "user", "content": "Say hello."}]


def _rate_refusals() -> float:
    return REGISTRY.get_sample_value("hybrid_chat_limit_refusals_total", {"limit": "rate"}) or 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_refuses_the_message_over_the_limit_until_the_minute_has_passed():
    clock = Clock()
    limits = Limits(rate_per_minute=2, clock=clock)
    limits.take_rate("alice")
    clock.now += 10
    limits.take_rate("alice")
    with pytest.raises(LimitExceeded) as caught:
        limits.take_rate("alice")
    assert caught.value.limit == "rate" and caught.value.status == 429
    assert "2 a minute" in caught.value.message and "wait 50 seconds" in caught.value.message
    limits.take_rate("bob")  # per user
    clock.now += 50
    limits.take_rate("alice")  # the first one left the window


def test_admins_and_a_zero_limit_are_not_rate_limited():
    limits = Limits(rate_per_minute=1)
    for _ in range(5):
        limits.take_rate("root", admin=True)
    unlimited = Limits(rate_per_minute=0)
    for _ in range(5):
        unlimited.take_rate("alice")


def test_size_limits_say_how_big_and_what_the_limit_is():
    limits = Limits(max_message_chars=10, max_upload_mb=1)
    limits.check_message("x" * 10)
    with pytest.raises(LimitExceeded) as caught:
        limits.check_message("x" * 11)
    assert caught.value.status == 413 and "11 characters; the limit is 10" in caught.value.message
    limits.check_upload(1024 * 1024)
    with pytest.raises(LimitExceeded) as caught:
        limits.check_upload(3 * 1024 * 1024)
    assert caught.value.limit == "upload_size" and "3.0 MB; the limit is 1 MB" in caught.value.message


async def test_the_daily_budgets_count_todays_usage_and_spare_admins(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        tokens = Limits(daily_tokens=100)
        cost = Limits(daily_cost_usd=0.5)
        await tokens.check_budget(engine, "alice")
        await record_usage(engine, UsageRecord("s1", "alice", "openai", "gpt", 60, 40, 0.6))
        with pytest.raises(LimitExceeded) as caught:
            await tokens.check_budget(engine, "alice")
        assert caught.value.limit == "daily_tokens" and "100 tokens" in caught.value.message
        assert "midnight UTC" in caught.value.message and caught.value.retry_after_s > 0
        with pytest.raises(LimitExceeded) as caught:
            await cost.check_budget(engine, "alice")
        assert caught.value.limit == "daily_cost" and "$0.50" in caught.value.message
        await tokens.check_budget(engine, "bob")
        await tokens.check_budget(engine, "alice", admin=True)
    finally:
        await engine.dispose()


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


async def test_over_the_daily_token_budget_the_client_gets_429_insufficient_quota(tmp_path):
    async for running in start_gateway(tmp_path, DAILY_TOKEN_BUDGET=20):
        client = running.client()
        for _ in range(2):  # 15 tokens each: the second starts under the budget
            await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        assert caught.value.body["type"] == "insufficient_quota" and caught.value.body["code"] == "daily_tokens"
        assert "daily budget of 20 tokens" in caught.value.message
        await running.client(ADMIN_KEY).chat.completions.create(model=LOCAL_MODEL, messages=HELLO)


async def test_a_too_long_message_is_413_and_never_reaches_a_model(tmp_path):
    async for running in start_gateway(tmp_path, MAX_MESSAGE_CHARS=50):
        long = [{"role": "user", "content": "x" * 51}]
        with pytest.raises(openai.APIStatusError) as caught:
            await running.client().chat.completions.create(model=LOCAL_MODEL, messages=long)
        assert caught.value.status_code == 413 and caught.value.body["code"] == "message_too_long"
        assert "51 characters; the limit is 50" in caught.value.message
        assert not running.local.generation_requests()
