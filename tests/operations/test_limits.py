"""Rate limit, daily budgets and size limits: each refuses with a message a user can act on."""

from __future__ import annotations

import asyncio

import pytest

from operations import LimitExceeded, Limits
from persistence import SharedState, UsageRecord, create_engine, record_usage, upgrade_database
from tests.support.clock import Clock


async def test_the_rate_limit_refuses_the_message_over_the_limit_until_the_minute_has_passed(engine):
    clock = Clock()
    limits = Limits(SharedState(engine), rate_per_minute=2, clock=clock)
    await limits.take_rate("alice")
    clock.now += 10
    await limits.take_rate("alice")
    with pytest.raises(LimitExceeded) as caught:
        await limits.take_rate("alice")
    assert caught.value.limit == "rate" and caught.value.status == 429
    assert "2 a minute" in caught.value.message and "wait 50 seconds" in caught.value.message
    await limits.take_rate("bob")  # per user
    clock.now += 50
    await limits.take_rate("alice")  # the first one left the window


async def test_two_instances_share_one_rate_limit_exactly(two_instances):
    clock = Clock()
    first, second = (Limits(shared, rate_per_minute=5, clock=clock) for shared in two_instances)

    async def admitted(limits: Limits) -> bool:
        try:
            await limits.admit("alice", ["hello"])
        except LimitExceeded:
            return False
        return True

    outcomes = await asyncio.gather(*(admitted(limits) for _ in range(10) for limits in (first, second)))
    assert outcomes.count(True) == 5, "20 messages at once on two instances, a limit of 5: 5 admitted"
    clock.now += 60
    assert await admitted(second) and await admitted(first)


async def test_an_unreachable_database_lets_messages_through():
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        limits = Limits(SharedState(engine), rate_per_minute=1)
        for _ in range(3):  # the chat keeps answering during an outage
            await limits.admit("alice", ["hello"])
    finally:
        await engine.dispose()


async def test_admins_and_a_zero_limit_are_not_rate_limited(engine):
    limits = Limits(SharedState(engine), rate_per_minute=1)
    for _ in range(5):
        await limits.take_rate("root", admin=True)
    unlimited = Limits(SharedState(engine), rate_per_minute=0)
    for _ in range(5):
        await unlimited.take_rate("alice")


def test_the_size_limit_says_how_big_and_what_the_limit_is(engine):
    limits = Limits(SharedState(engine), max_message_chars=10)
    limits.check_message("x" * 10)
    with pytest.raises(LimitExceeded) as caught:
        limits.check_message("x" * 11)
    assert caught.value.status == 413 and "11 characters; the limit is 10" in caught.value.message


async def test_a_spent_daily_budget_is_reported_from_todays_cloud_usage_and_spares_admins(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_database(url)
    engine = create_engine(url)
    cloud = {"openai", "gemini"}
    try:
        tokens = Limits(SharedState(engine), daily_tokens=100)
        cost = Limits(SharedState(engine), daily_cost_usd=0.5)
        assert await tokens.budget_spent(engine, "alice", cloud_backends=cloud) == ""
        await record_usage(engine, UsageRecord("s0", "alice", "foundry_local", "smollm2", 600, 400, 0.0))
        assert await tokens.budget_spent(engine, "alice", cloud_backends=cloud) == "", "local answers are not rationed"
        await record_usage(engine, UsageRecord("s1", "alice", "openai", "gpt", 60, 40, 0.6))
        spent = await tokens.budget_spent(engine, "alice", cloud_backends=cloud)
        assert "100 tokens is used up" in spent and "midnight UTC" in spent
        assert "$0.50 is used up" in await cost.budget_spent(engine, "alice", cloud_backends=cloud)
        assert await tokens.budget_spent(engine, "bob", cloud_backends=cloud) == ""
        assert await tokens.budget_spent(engine, "alice", cloud_backends=cloud, admin=True) == ""
    finally:
        await engine.dispose()
