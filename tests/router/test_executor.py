"""The executor with real SDK clients against scripted provider servers: retries, fallback, breakers, accounting."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from router.backends.gemini import GeminiBackend
from router.backends.gpt import GPTBackend
from router.backends.ollama import OllamaBackend
from router.catalog import ModelSpec
from router.decision import RouteDecision
from router.errors import NoBackendAvailable
from router.executor import CONTINUE_INSTRUCTION, execute
from router.resilience import CircuitBreaker, RetryPolicy
from router.tokens import estimate_tokens
from router.types import ChatMessage, Completed, Notice, TextDelta
from tests.support.fake_servers import Fail, FakeServer, Reply
from tests.support.secret import SECRET

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Greet the world")]
PROTOCOLS = ["openai", "ollama", "gemini"]


def backend_for(server: FakeServer, name: str, secret):
    if server.protocol == "gemini":
        return GeminiBackend(name=name, model=server.models[0], api_key=secret, base_url=server.base_url)
    if server.protocol == "ollama":
        return OllamaBackend(name=name, model=server.models[0], base_url=server.base_url, read_timeout_s=10)
    return GPTBackend(name=name, model=server.models[0], api_key=secret, base_url=server.base_url, read_timeout_s=10)


def spec_for(server: FakeServer, name: str, *, kind="cloud") -> ModelSpec:
    return ModelSpec(id=f"{name}-model", label=f"{name.title()} Model", provider=name, model=server.models[0],
                     kind=kind, context_length=8192, input_price=1.0, output_price=2.0)


@pytest.fixture(params=PROTOCOLS)
async def primary(request):
    """The backend under test, one per wire protocol."""
    models = {"openai": ("gpt-test",), "ollama": ("llama-test:1b",), "gemini": ("gemini-test",)}[request.param]
    server = await FakeServer(request.param, models=models).start()
    yield server
    await server.stop()


@pytest.fixture
async def fallback():
    server = await FakeServer("openai", models=("fallback-test",), default=Reply(chunks=("from the ", "fallback"))).start()
    yield server
    await server.stop()


class Run:
    """One executed decision: its events, the visible text and the final record."""

    def __init__(self, events):
        self.events = events
        self.notices = [e.text for e in events if isinstance(e, Notice)]
        self.text = "".join(e.text for e in events if isinstance(e, TextDelta))
        completed = [e for e in events if isinstance(e, Completed)]
        assert len(completed) == 1 and events[-1] is completed[0], "exactly one Completed, last"
        self.record = completed[0].record

    @property
    def transcript(self) -> str:
        """What the user reads: text and notices in order."""
        return "".join(e.text if isinstance(e, TextDelta) else f"[{e.text}]" for e in self.events if not isinstance(e, Completed))


async def run(servers, resilience, secret, messages=MESSAGES) -> Run:
    names = ["primary", "fallback"][: len(servers)]
    backends = {name: backend_for(server, name, secret) for name, server in zip(names, servers)}
    decision = RouteDecision(tuple(spec_for(s, n) for n, s in zip(names, servers)), private=False, reasons=("test",))
    events = [e async for e in execute(decision, messages, backends, max_tokens=64, temperature=0, resilience=resilience)]
    return Run(events)


async def test_a_normal_stream_is_accounted_for(primary, fast_resilience, secret):
    result = await run([primary], fast_resilience, secret)

    assert result.text == "Hello, world!" and result.notices == []
    record = result.record
    assert (record.backend, record.model_id, record.finish_reason) == ("primary", "primary-model", "stop")
    assert (record.prompt_tokens, record.completion_tokens) == (11, 4)
    assert record.cost_usd == pytest.approx((11 * 1.0 + 4 * 2.0) / 1_000_000)
    assert record.ttft_s is not None and record.total_s >= record.ttft_s
    assert (record.retries, record.fallbacks, record.message_count, record.error) == (0, (), 2, "")


async def test_429_is_retried_after_the_retry_after_it_asked_for(primary, fast_resilience, secret):
    primary.script = [Fail(429, headers={"Retry-After": "1"})]

    result = await run([primary], fast_resilience, secret)

    assert result.text == "Hello, world!" and result.record.retries == 1
    first, second = primary.generation_requests()
    assert second.at - first.at >= 0.9


async def test_500_then_success_is_retried_on_the_same_backend(primary, fast_resilience, secret):
    primary.script = [Fail(500), Fail(503)]

    result = await run([primary], fast_resilience, secret)

    assert result.text == "Hello, world!"
    assert result.record.retries == 2 and result.record.backend == "primary"
    assert len(primary.generation_requests()) == 3


async def test_401_is_never_retried_and_falls_back(primary, fallback, fast_resilience, secret, caplog):
    primary.script = [Fail(401, message=f"bad key {SECRET}")]
    caplog.set_level(logging.DEBUG)

    result = await run([primary, fallback], fast_resilience, secret)

    assert len(primary.generation_requests()) == 1
    assert result.text == "from the fallback"
    assert len(result.notices) == 1 and "Primary Model" in result.notices[0] and "Fallback Model" in result.notices[0]
    assert result.record.backend == "fallback" and result.record.fallbacks == ("fallback-model",)
    assert result.record.retries == 0
    assert SECRET not in result.transcript and SECRET not in caplog.text


async def test_connection_dropped_mid_stream_is_finished_by_the_fallback(primary, fallback, fast_resilience, secret):
    primary.script = [Reply(drop_after=2)]

    result = await run([primary, fallback], fast_resilience, secret)

    assert result.text == "Hello, from the fallback"
    assert result.transcript.startswith("Hello, [Primary Model stopped in the middle of the answer")
    assert result.transcript.endswith("Continuing with Fallback Model.]from the fallback")
    sent = fallback.generation_requests()[0].body["messages"]
    assert sent[:2] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Greet the world"}]
    assert sent[2:] == [{"role": "assistant", "content": "Hello, "}, {"role": "user", "content": CONTINUE_INSTRUCTION}]
    assert len(primary.generation_requests()) == 1  # text was shown: not retried on the same backend
    record = result.record
    assert record.fallbacks == ("fallback-model",) and record.finish_reason == "stop"
    # The broken attempt is billed by an estimate (no usage arrived), the fallback by its usage chunk.
    assert record.completion_tokens == estimate_tokens(len("Hello, ")) + 4


def impatient(resilience, max_retries: int = 2):
    """First-token limit 1.5 s: still ~100x what the local server needs, so only a stall trips it."""
    return dataclasses.replace(
        resilience, timeouts=dataclasses.replace(resilience.timeouts, first_token_s=1.5),
        retry=RetryPolicy(max_retries=max_retries, base_delay_s=0.01),
    )


async def test_a_stall_past_the_first_token_timeout_is_retried(primary, fast_resilience, secret):
    primary.script = [Reply(stall_s=10)]

    result = await run([primary], impatient(fast_resilience), secret)

    assert result.text == "Hello, world!" and result.record.retries == 1


async def test_a_backend_that_keeps_stalling_falls_back(openai_server, fallback, fast_resilience, secret):
    openai_server.default = Reply(stall_s=10)

    result = await run([openai_server, fallback], impatient(fast_resilience, max_retries=1), secret)

    assert result.text == "from the fallback"
    assert "no first token" in result.notices[0]
    assert len(openai_server.generation_requests()) == 2


async def test_mid_stream_failure_without_a_fallback_keeps_the_partial_answer(openai_server, fast_resilience, secret):
    openai_server.script = [Reply(drop_after=2)]

    result = await run([openai_server], fast_resilience, secret)

    assert result.text == "Hello, "
    assert "No other model" in result.notices[0]
    assert result.record.finish_reason == "error" and "stopped in the middle" in result.record.error


async def test_when_nothing_can_answer_the_stream_still_ends_with_a_record(openai_server, fallback, fast_resilience, secret):
    openai_server.script = [Fail(401)]
    fallback.script = [Fail(403)]

    result = await run([openai_server, fallback], fast_resilience, secret)

    assert result.text == ""
    assert result.notices[-1].endswith("No model could answer.") and "Fallback Model could not" in result.notices[-1]
    assert result.record.finish_reason == "error" and result.record.fallbacks == ("fallback-model",)


async def test_an_empty_decision_raises_before_sending_anything(fast_resilience):
    with pytest.raises(NoBackendAvailable, match="nothing local"):
        async for _ in execute(RouteDecision((), True, ("nothing local",)), MESSAGES, {}, max_tokens=8,
                               resilience=fast_resilience):
            pass


async def test_the_breaker_skips_a_failing_backend_then_probes_it(openai_server, fallback, fast_resilience, secret):
    now = [0.0]
    fast_resilience.retry = RetryPolicy(max_retries=0)
    fast_resilience.breakers["primary"] = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=lambda: now[0])
    openai_server.script = [Fail(500), Fail(500)]

    for _ in range(2):
        assert (await run([openai_server, fallback], fast_resilience, secret)).record.backend == "fallback"
    assert len(openai_server.generation_requests()) == 2

    skipped = await run([openai_server, fallback], fast_resilience, secret)
    assert skipped.record.backend == "fallback"
    assert skipped.notices == ["Primary Model is paused after repeated failures (the provider had an error (HTTP 500); "
                               "next try in 30 s). Answering with Fallback Model."]
    assert len(openai_server.generation_requests()) == 2  # open: not even tried

    now[0] += 31
    probed = await run([openai_server, fallback], fast_resilience, secret)
    assert probed.record.backend == "primary" and fast_resilience.breakers["primary"].state == "closed"


async def test_a_bad_request_falls_back_without_tripping_the_breaker(openai_server, fallback, fast_resilience, secret):
    openai_server.script = [Fail(400)]

    result = await run([openai_server, fallback], fast_resilience, secret)

    assert result.record.backend == "fallback" and result.record.retries == 0
    assert fast_resilience.breakers["primary"].consecutive_failures == 0


async def test_stopping_the_stream_early_yields_no_record_and_leaves_the_breaker_alone(openai_server, fast_resilience, secret):
    openai_server.default = Reply(chunks=tuple(f"w{i} " for i in range(50)))
    backends = {"primary": backend_for(openai_server, "primary", secret)}
    decision = RouteDecision((spec_for(openai_server, "primary"),), False, ("test",))

    stream = execute(decision, MESSAGES, backends, max_tokens=64, resilience=fast_resilience)
    first = await anext(stream)
    await stream.aclose()

    assert first == TextDelta("w0 ")
    breaker = fast_resilience.breakers["primary"]
    assert breaker.state == "closed" and breaker.consecutive_failures == 0


async def test_mid_stream_failure_is_finished_by_the_real_local_model(openai_server, foundry_backend, fast_resilience, secret):
    openai_server.script = [Reply(drop_after=2)]
    local = ModelSpec(id="smollm2", label="SmolLM2", provider="foundry-local", model=foundry_backend.model_name,
                      kind="local", context_length=8192)
    backends = {"primary": backend_for(openai_server, "primary", secret), "foundry-local": foundry_backend}
    decision = RouteDecision((spec_for(openai_server, "primary"), local), False, ("test",))
    result = Run([e async for e in execute(decision, MESSAGES, backends, max_tokens=24, temperature=0,
                                           resilience=fast_resilience)])

    assert result.text.startswith("Hello, ") and len(result.text) > len("Hello, ")
    assert result.transcript.startswith("Hello, [Primary Model stopped in the middle")
    assert result.record.backend == "foundry-local" and result.record.fallbacks == ("smollm2",)
    assert result.record.completion_tokens > 2
