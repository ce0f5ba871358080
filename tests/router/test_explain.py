"""The route step's text and the decision record: what the user and the logs see, personal data masked."""

from __future__ import annotations

import json
from dataclasses import replace

from router.catalog import ModelCatalog
from router.complexity import ComplexityScore
from router.decision import RouteRequest
from router.explain import decision_record, describe_route
from router.policy import decide
from router.types import CallRecord, ChatMessage, Health

CATALOG = ModelCatalog.load()
ALL_UP = {spec.provider: Health(True) for spec in CATALOG}
HIGH = ComplexityScore(0.71, "embedding", threshold=0.58, cloud_share=0.3)


def route(text: str, **fields):
    return decide(RouteRequest(messages=(ChatMessage("user", text),), **fields), CATALOG, ALL_UP, score=HIGH)


def test_route_text_masks_personal_data():
    text = describe_route(route("My e-mail is rina@example.com. Card 4111 1111 1111 1111."))
    assert "rina@example.com" not in text and "4111 1111 1111 1111" not in text
    assert "e-mail address r•••@•••.com (prompt)" in text
    assert text.startswith("Route: local · SmolLM2 135M (Foundry Local)")
    assert "\nWhy: private (payment card number, e-mail address found) → local only\n" in text


def test_route_text_shows_score_fallbacks_and_the_call():
    record = CallRecord(backend="gemini", model_id="gemini-2.5-flash", model="gemini-2.5-flash", prompt_tokens=120,
                        completion_tokens=300, cost_usd=0.000786, ttft_s=0.42, total_s=2.5, fallbacks=())
    text = describe_route(route("Prove Fermat's little theorem."), record)
    assert "strong win rate 0.71 ≥ threshold 0.58 (target 30% cloud) → cloud" in text
    assert "Fallbacks allowed: GPT-4.1 mini, SmolLM2 135M (Foundry Local), Llama 3.2 3B (Ollama)" in text
    assert "\nTokens: 120 prompt + 300 answer\nCost: $0.00079\nFirst token: 0.42 s\nTotal: 2.50 s\n" in text


def test_route_text_has_one_fact_per_line():
    record = CallRecord(backend="gemini", model_id="gemini-2.5-flash", model="gemini-2.5-flash", prompt_tokens=1,
                        completion_tokens=2, cost_usd=0.0, ttft_s=None, total_s=1.0, fallbacks=(), message_count=3,
                        models=("gemini-2.5-flash",))
    lines = describe_route(route("Prove Fermat's little theorem."), record).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Route", "Why", "Strong win rate", "Fallbacks allowed", "Answered by Gemini 2.5 Flash", "Tokens", "Cost",
        "First token", "Total", "Messages sent"]
    assert "Messages sent: 3" in lines and "First token: n/a" in lines


def test_confirmation_is_spelled_out():
    decision = route("call me at +62 812 3456 7890", profile="gpt-4.1-mini")
    assert describe_route(decision).startswith("Route: waiting for your choice (send anyway / answer locally / cancel)")


def test_decision_record_is_json_and_masked():
    record = decision_record(route("my NIK is 3174055708900002"))
    assert json.loads(json.dumps(record)) == record
    assert record | {"reasons": None} == {
        "private": True, "privacy_kinds": ["nik"], "strong_win_rate": 0.71, "threshold": 0.58, "route": "local",
        "backend": "foundry-local", "model": "smollm2-135m", "fallbacks": ["ollama"], "needs_confirmation": False,
        "privacy_choice": None, "reasons": None}
    assert "3174055708900002" not in json.dumps(record)


def test_route_text_names_every_model_that_answered():
    record = CallRecord(backend="foundry-local", model_id="smollm2-135m", model="smollm2-135m-instruct",
                        prompt_tokens=40, completion_tokens=30, cost_usd=0.0001, ttft_s=0.3, total_s=4.0,
                        fallbacks=("smollm2-135m",), models=("gpt-4.1-mini", "smollm2-135m"))
    text = describe_route(route("Explain a hash map.", profile="gpt-4.1-mini"), record)
    assert "\nAnswered by GPT-4.1 mini, then SmolLM2 135M (Foundry Local)\nTokens: 40 prompt + 30 answer\n" in text
    assert "falling back from smollm2-135m" not in text


def test_route_text_says_how_long_the_message_waited_in_line():
    record = CallRecord(backend="foundry-local", model_id="smollm2-135m", model="smollm2-135m-instruct",
                        prompt_tokens=40, completion_tokens=30, cost_usd=0.0, ttft_s=12.6, total_s=14.0,
                        models=("smollm2-135m",), message_count=2, queued_s=12.25)
    text = describe_route(route("Explain a hash map."), record)
    assert "\nTotal: 14.00 s\nMessages sent: 2\nWaited in line: 12.25 s" in text
    assert "Waited in line" not in describe_route(route("Explain a hash map."), replace(record, queued_s=0.0))
