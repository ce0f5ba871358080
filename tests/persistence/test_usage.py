"""Per-message usage and its summaries on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from persistence import AnswerRoute, UsageRecord, record_usage, usage_summary
from persistence._tables import answer_routes


def record(step: str, user: str, backend: str, tokens: int, cost: float, **extra) -> UsageRecord:
    return UsageRecord(step_id=step, user_identifier=user, backend=backend, model=f"{backend}-model",
                       prompt_tokens=tokens, completion_tokens=tokens // 2, cost_usd=cost, **extra)


async def test_usage_is_recorded_and_summarised_per_user_and_for_admins(layer):
    engine = layer.engine
    old = datetime.now(timezone.utc) - timedelta(days=40)
    await record_usage(engine, record("s1", "alice", "gpt", 100, 0.01, ttft_ms=300.0, latency_ms=900.0, thread_id="t1"))
    await record_usage(engine, record("s2", "alice", "gpt", 200, 0.02))
    await record_usage(engine, record("s2", "alice", "gpt", 300, 0.03))  # a retried message replaces its usage
    await record_usage(engine, record("s3", "alice", "foundry-local", 50, 0.0))
    await record_usage(engine, record("s4", "bob", "gemini", 10, 0.001, created_at=old))

    alice = await usage_summary(engine, "alice")
    assert [(s.backend, s.messages, s.prompt_tokens, s.completion_tokens) for s in alice] == [
        ("foundry-local", 1, 50, 25), ("gpt", 2, 400, 200),
    ]
    assert alice[1].cost_usd == pytest.approx(0.04)
    everyone = await usage_summary(engine)
    assert {s.user_identifier for s in everyone} == {"alice", "bob"}
    recent = await usage_summary(engine, since=datetime.now(timezone(timedelta(hours=7))) - timedelta(days=30))
    assert {s.user_identifier for s in recent} == {"alice"}


async def test_usage_and_the_answers_route_are_stored_together(layer):
    engine = layer.engine
    route = AnswerRoute("s1", "alice", "Name a colour.", "gpt-4.1-mini", "cloud", thread_id="t1", strong_win_rate=0.7)
    await record_usage(engine, record("s1", "alice", "gpt", 100, 0.01), answer_route=route)
    await record_usage(engine, record("s1", "alice", "gpt", 120, 0.01),  # a retry replaces both
                       answer_route=replace(route, model="gpt-4.1", strong_win_rate=0.8))
    async with engine.connect() as conn:
        routes = (await conn.execute(answer_routes.select())).mappings().all()
    assert [(r["step_id"], r["model"], r["route"], r["strong_win_rate"]) for r in routes] == [
        ("s1", "gpt-4.1", "cloud", 0.8)]
    assert [(s.messages, s.prompt_tokens) for s in await usage_summary(engine, "alice")] == [(1, 120)]


def test_negative_usage_is_rejected():
    with pytest.raises(ValueError):
        record("s", "alice", "gpt", -1, 0.0)
