"""Retry policy, circuit breaker and stream timeouts, on their own (no server)."""

from __future__ import annotations

import asyncio
import time

import pytest

from router.errors import AuthenticationFailed, BackendError, BackendTimeout, BadRequest, RateLimited
from router.resilience import CircuitBreaker, Resilience, RetryPolicy, with_timeouts
from settings import Settings
from tests.support.clock import Clock


def test_only_transient_errors_are_retried():
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry(BackendError("5xx", transient=True), 0)
    assert policy.should_retry(BackendTimeout("slow"), 1)
    assert not policy.should_retry(BackendError("5xx", transient=True), 2)
    assert not policy.should_retry(AuthenticationFailed("401", status_code=401), 0)
    assert not policy.should_retry(BadRequest("400", status_code=400), 0)


def test_retry_after_is_honoured_unless_longer_than_worth_waiting():
    policy = RetryPolicy(max_wait_s=10)
    assert policy.delay(RateLimited("429", retry_after=3), 0) == 3
    assert policy.delay(RateLimited("429", retry_after=60), 0) is None


def test_backoff_is_jittered_exponential_and_capped():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=2.0)
    error = BackendError("5xx", transient=True)
    delays = [policy.delay(error, 0) for _ in range(200)]
    assert all(0 <= d <= 0.5 for d in delays) and len(set(delays)) > 100
    assert all(0 <= policy.delay(error, 10) <= 2.0 for _ in range(50))


def test_breaker_opens_after_the_threshold_and_probes_once_after_the_cooldown():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=30, clock=clock)
    failure = BackendError("HTTP 500", transient=True)
    for _ in range(2):
        breaker.record_failure(failure)
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure(failure)
    assert breaker.state == "open" and not breaker.allow()

    clock.now += 31
    assert breaker.state == "half-open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.record_failure(failure)
    assert breaker.state == "open"  # a failed probe re-opens at once

    clock.now += 31
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0 and breaker.allow()


def test_a_success_resets_the_count():
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.record_failure(BackendError("x", transient=True))
    breaker.record_success()
    breaker.record_failure(BackendError("x", transient=True))
    assert breaker.state == "closed"


def test_a_rejected_key_or_a_rate_limit_opens_at_once():
    clock = Clock()
    auth = CircuitBreaker(failure_threshold=5, cooldown_s=30, clock=clock)
    auth.record_failure(AuthenticationFailed("401"))
    assert auth.state == "open"

    limited = CircuitBreaker(failure_threshold=5, cooldown_s=30, clock=clock)
    limited.record_failure(RateLimited("429", retry_after=2))
    assert limited.state == "open" and limited.seconds_until_probe() == 2
    clock.now += 2
    assert limited.state == "half-open"


def test_a_stopped_probe_lets_the_next_request_probe():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=1, clock=clock)
    breaker.record_failure(BackendError("x", transient=True))
    clock.now += 2
    assert breaker.allow() and not breaker.allow()
    breaker.release_probe()
    assert breaker.allow()


def test_a_bad_request_is_the_callers_fault_never_counted_and_a_probe_it_ended_is_released():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=clock)
    for _ in range(5):
        breaker.record_failure(BadRequest("the conversation is too long for this model", status_code=400))
    assert breaker.state == "closed" and breaker.consecutive_failures == 0 and breaker.allow()

    for _ in range(2):
        breaker.record_failure(BackendError("HTTP 500", transient=True))
    clock.now += 31
    assert breaker.allow()  # the probe, which the client's bad request ends without a verdict
    breaker.record_failure(BadRequest("400"))
    assert breaker.state == "half-open" and breaker.allow(), "the next request may probe"


def test_resilience_from_settings_and_one_breaker_per_backend():
    resilience = Resilience.from_settings(Settings(FIRST_TOKEN_TIMEOUT_S=7, MAX_RETRIES=4, BREAKER_FAILURE_THRESHOLD=9))
    assert resilience.timeouts.first_token_s == 7 and resilience.retry.max_retries == 4
    assert resilience.breaker("a") is resilience.breaker("a") is not resilience.breaker("b")
    assert resilience.breaker("a").failure_threshold == 9


def test_the_in_process_model_ollama_and_cloud_providers_get_their_own_concurrency_limits():
    resilience = Resilience.from_settings(Settings(FOUNDRY_MAX_PARALLEL=3, OLLAMA_MAX_PARALLEL=5,
                                                   BACKEND_MAX_PARALLEL=12))
    assert resilience.admission("foundry-local").limit == 3
    assert resilience.admission("ollama").limit == 5
    assert resilience.admission("gemini").limit == resilience.admission("openai").limit == 12
    assert resilience.admission("gemini") is resilience.admission("gemini") is not resilience.admission("openai")


async def _slow(first_delay: float, then: list[float], closed: list[bool]):
    try:
        await asyncio.sleep(first_delay)
        yield "first"
        for delay in then:
            await asyncio.sleep(delay)
            yield "more"
    finally:
        closed.append(True)


async def test_no_first_item_in_time_raises_and_closes_the_source():
    closed: list[bool] = []
    with pytest.raises(BackendTimeout, match="no first token"):
        async for _ in with_timeouts(_slow(5, [], closed), first_item_s=0.1, deadline=time.monotonic() + 10, backend="b"):
            pass
    assert closed == [True]


async def test_the_whole_answer_deadline_applies_after_the_first_item():
    closed: list[bool] = []
    items = []
    with pytest.raises(BackendTimeout, match="not finished"):
        async for item in with_timeouts(_slow(0, [0, 5], closed), first_item_s=1, deadline=time.monotonic() + 0.3,
                                        backend="b"):
            items.append(item)
    assert items == ["first", "more"] and closed == [True]


async def test_a_fast_stream_passes_through_untouched():
    closed: list[bool] = []
    items = [i async for i in with_timeouts(_slow(0, [0, 0], closed), first_item_s=1, deadline=time.monotonic() + 5,
                                            backend="b")]
    assert items == ["first", "more", "more"] and closed == [True]
