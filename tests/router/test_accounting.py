"""Accounting across attempts: reported usage, estimates for broken streams, cost from the price table."""

from __future__ import annotations

import pytest

from router.accounting import CallMeter
from router.catalog import ModelSpec
from router.tokens import estimate_tokens
from router.types import ChatMessage, StreamEnd, Usage

CLOUD = ModelSpec(id="cloud", label="Cloud", provider="openai", model="m", kind="cloud", context_length=1000,
                  input_price=2.0, output_price=8.0)
LOCAL = ModelSpec(id="local", label="Local", provider="foundry-local", model="l", kind="local", context_length=1000)
MESSAGES = [ChatMessage("user", "x" * 40)]


def test_one_clean_call_uses_the_reported_usage_and_prices():
    meter = CallMeter(message_count=1)
    attempt = meter.begin(CLOUD, "openai", MESSAGES)
    meter.text(attempt, "hello")
    attempt.end = StreamEnd(Usage(1000, 500), finish_reason="length")

    record = meter.record(finish_reason="length")

    assert (record.prompt_tokens, record.completion_tokens) == (1000, 500)
    assert record.cost_usd == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    assert record.finish_reason == "length" and record.ttft_s is not None and record.fallbacks == ()


def test_a_broken_attempt_is_estimated_and_each_attempt_priced_by_its_own_model():
    meter = CallMeter(message_count=1)
    broken = meter.begin(CLOUD, "openai", MESSAGES)
    meter.text(broken, "y" * 20)  # no usage arrives: 40 prompt chars and 20 answer chars are estimated
    refused = meter.begin(CLOUD, "openai", MESSAGES)  # failed before any text: not billed
    local = meter.begin(LOCAL, "foundry-local", MESSAGES)
    meter.text(local, "z")
    local.end = StreamEnd(Usage(30, 7))
    meter.retries = 1

    record = meter.record(finish_reason="stop")

    assert refused.usage == Usage()
    assert (record.prompt_tokens, record.completion_tokens) == (14 + 30, 7 + 7)
    assert record.cost_usd == pytest.approx((14 * 2.0 + 7 * 8.0) / 1e6)  # the local model is free
    assert (record.backend, record.model_id, record.fallbacks, record.retries) == ("foundry-local", "local", ("local",), 1)
    assert record.models == ("cloud", "local"), "the models whose text is in the answer, in order"


def test_a_server_that_reports_no_usage_is_estimated():
    meter = CallMeter(message_count=1)
    attempt = meter.begin(CLOUD, "openai", MESSAGES)
    meter.text(attempt, "abcdefgh")
    attempt.end = StreamEnd(Usage())
    assert meter.record(finish_reason="stop").completion_tokens == estimate_tokens("abcdefgh") == 3


def test_a_model_that_answered_nothing_is_not_named_among_those_that_answered():
    meter = CallMeter(message_count=1)
    meter.begin(CLOUD, "openai", MESSAGES)  # refused before any text
    local = meter.begin(LOCAL, "foundry-local", MESSAGES)
    local.end = StreamEnd(Usage(30, 0))  # finished without a word: it still answered

    assert meter.record(finish_reason="stop").models == ("local",)
