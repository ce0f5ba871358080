"""Rate limit, daily budgets and size limits: each refuses with a message a user can act on."""

from __future__ import annotations

import pytest

from operations import LimitExceeded, Limits
from persistence import UsageRecord, create_engine, record_usage, upgrade_database
from tests.support.clock import Clock


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


def test_the_size_limit_says_how_big_and_what_the_limit_is():
    limits = Limits(max_message_chars=10)
    limits.check_message("x" * 10)
    with pytest.raises(LimitExceeded) as caught:
        limits.check_message("x" * 11)
    assert caught.value.status == 413 and "11 characters; the limit is 10" in caught.value.message


async def test_a_spent_daily_budget_is_reported_from_todays_usage_and_spares_admins(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        tokens = Limits(daily_tokens=100)
        cost = Limits(daily_cost_usd=0.5)
        assert await tokens.budget_spent(engine, "alice") == ""
        await record_usage(engine, UsageRecord("s1", "alice", "openai", "gpt", 60, 40, 0.6))
        spent = await tokens.budget_spent(engine, "alice")
        assert "100 tokens is used up" in spent and "midnight UTC" in spent
        assert "$0.50 is used up" in await cost.budget_spent(engine, "alice")
        assert await tokens.budget_spent(engine, "bob") == ""
        assert await tokens.budget_spent(engine, "alice", admin=True) == ""
    finally:
        await engine.dispose()
