"""The executor: retries, fallback, breakers and accounting, against scripted in-process backends.

The last tests go over the wire (real SDK clients against the scripted protocol servers) for
what only the wire shows: each SDK's usage reaching the record, a stalled SDK stream cut by
the first-token limit, and the real local model finishing an answer a provider broke off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from router.backends.gemini import GeminiBackend
from router.backends.gpt import GPTBackend
from router.backends.ollama import OllamaBackend
from router.catalog import ModelSpec
from router.decision import RouteDecision
from router.continuation import CONTINUE_INSTRUCTION
from router.conversation import fits
from router.errors import AuthenticationFailed, BackendError, BadRequest, NoBackendAvailable, RateLimited
from router.executor import REPETITION_NOTICE, AnswerStream, execute
from router.resilience import CircuitBreaker, RetryPolicy
from router.tokens import estimate_tokens
from router.types import ChatMessage, Completed, Notice, Queued, TextDelta
from tests.support import fake_servers as wire
from tests.support.clock import Clock
from tests.support.fake_backend import DROPPED, Fail, FakeBackend, Reply

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Greet the world")]
PROTOCOLS = ["openai", "ollama", "gemini"]


def server_error() -> BackendError:
    return BackendError("the provider had an error (HTTP 500)", status_code=500, transient=True)


def refused_key(status: int = 401) -> AuthenticationFailed:
    return AuthenticationFailed(f"the server refused the credentials (HTTP {status})", status_code=status)


def spec_for(provider: str, model: str, *, kind="cloud") -> ModelSpec:
    return ModelSpec(id=f"{provider}-model", label=f"{provider.title()} Model", provider=provider, model=model,
                     kind=kind, context_length=8192, input_price=1.0, output_price=2.0)


@pytest.fixture
def primary() -> FakeBackend:
    return FakeBackend("primary", models=("primary-test",))


@pytest.fixture
def fallback() -> FakeBackend:
    return FakeBackend("fallback", models=("fallback-test",), default=Reply(chunks=("from the ", "fallback")))


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


async def execute_all(decision: RouteDecision, backends, resilience, *, max_tokens: int = 64) -> Run:
    events = [e async for e in execute(decision, MESSAGES, backends, max_tokens=max_tokens, temperature=0,
                                       resilience=resilience)]
    return Run(events)


async def run(backends: list[FakeBackend], resilience) -> Run:
    """Execute a decision naming `backends` in this order."""
    decision = RouteDecision(tuple(spec_for(b.name, b.model_names[0]) for b in backends), private=False,
                             reasons=("test",))
    return await execute_all(decision, {b.name: b for b in backends}, resilience)


async def test_a_normal_stream_is_accounted_for(primary, fast_resilience):
    result = await run([primary], fast_resilience)

    assert result.text == "Hello, world!" and result.notices == []
    record = result.record
    assert (record.backend, record.model_id, record.finish_reason) == ("primary", "primary-model", "stop")
    assert (record.prompt_tokens, record.completion_tokens) == (11, 4)
    assert record.cost_usd == pytest.approx((11 * 1.0 + 4 * 2.0) / 1_000_000)
    assert record.ttft_s is not None and record.total_s >= record.ttft_s
    assert (record.retries, record.fallbacks, record.message_count, record.error) == (0, (), 2, "")
    (request,) = primary.requests
    assert request.messages == tuple(MESSAGES)
    assert (request.params.model, request.params.max_tokens, request.params.temperature) == ("primary-test", 64, 0)


async def test_429_is_retried_after_the_retry_after_it_asked_for(primary, fast_resilience):
    primary.script = [Fail(RateLimited("rate limited by the provider (HTTP 429)", status_code=429, retry_after=0.5))]

    result = await run([primary], fast_resilience)

    assert result.text == "Hello, world!" and result.record.retries == 1
    first, second = primary.requests
    assert second.at - first.at >= 0.45


async def test_500_then_success_is_retried_on_the_same_backend(primary, fast_resilience):
    primary.script = [Fail(server_error()), Fail(server_error())]

    result = await run([primary], fast_resilience)

    assert result.text == "Hello, world!"
    assert result.record.retries == 2 and result.record.backend == "primary"
    assert len(primary.requests) == 3


async def test_401_is_never_retried_and_falls_back(primary, fallback, fast_resilience):
    primary.script = [Fail(refused_key())]

    result = await run([primary, fallback], fast_resilience)

    assert len(primary.requests) == 1
    assert result.text == "from the fallback"
    assert len(result.notices) == 1 and "Primary Model" in result.notices[0] and "Fallback Model" in result.notices[0]
    assert result.record.backend == "fallback" and result.record.fallbacks == ("fallback-model",)
    assert result.record.retries == 0


async def test_connection_dropped_mid_stream_is_finished_by_the_fallback(primary, fallback, fast_resilience):
    primary.script = [Reply(drop_after=2)]

    result = await run([primary, fallback], fast_resilience)

    assert result.text == "Hello, [… continued by Fallback Model] from the fallback", "the seam is marked"
    assert result.transcript.startswith(f"Hello, [Primary Model stopped in the middle of the answer ({DROPPED})")
    assert result.transcript.endswith("Continuing with Fallback Model.][… continued by Fallback Model] "
                                      "from the fallback")
    assert fallback.requests[0].messages == (
        *MESSAGES, ChatMessage("assistant", "Hello, "), ChatMessage("user", CONTINUE_INSTRUCTION),
    )
    assert len(primary.requests) == 1  # text was shown: not retried on the same backend
    record = result.record
    assert record.fallbacks == ("fallback-model",) and record.finish_reason == "stop"
    assert record.models == ("primary-model", "fallback-model"), "both wrote part of the answer"
    # The broken attempt is billed by an estimate (no usage arrived), the fallback by its usage.
    assert record.completion_tokens == estimate_tokens("Hello, ") + 4


@pytest.mark.parametrize("continuation, shown", [
    # Echoed word for word, then the real continuation.
    ((CONTINUE_INSTRUCTION[:40], CONTINUE_INSTRUCTION[40:] + " ", "from the fallback"), "from the fallback"),
    # Reworded (as SmolLM2 does), one sentence, cut off by the token limit.
    (("The previous answer was cut off by a technical ", "problem. Continue it from exactly where it"), ""),
])
async def test_a_continuation_that_echoes_the_instruction_keeps_it_out_of_the_answer(
    primary, fallback, fast_resilience, continuation, shown
):
    primary.script = [Reply(drop_after=2)]
    fallback.script = [Reply(chunks=continuation)]

    result = await run([primary, fallback], fast_resilience)

    assert result.text == "Hello, [… continued by Fallback Model] " + shown
    assert result.record.models == ("primary-model", "fallback-model")


async def test_a_continuation_that_merely_uses_the_same_words_is_kept(primary, fallback, fast_resilience):
    primary.script = [Reply(drop_after=2)]
    fallback.script = [Reply(chunks=("and it was a problem from the start. ", "The end."))]

    result = await run([primary, fallback], fast_resilience)

    assert result.text == "Hello, [… continued by Fallback Model] and it was a problem from the start. The end."


def impatient(resilience, max_retries: int = 2, first_token_s: float = 0.5):
    """A short first-token limit: an in-process backend answers without waiting, so only a stall trips it."""
    return dataclasses.replace(
        resilience, timeouts=dataclasses.replace(resilience.timeouts, first_token_s=first_token_s),
        retry=RetryPolicy(max_retries=max_retries, base_delay_s=0.01),
    )


async def test_a_stall_past_the_first_token_timeout_is_retried(primary, fast_resilience):
    primary.script = [Reply(stall_s=10)]

    result = await run([primary], impatient(fast_resilience))

    assert result.text == "Hello, world!" and result.record.retries == 1


async def test_a_backend_that_keeps_stalling_falls_back(primary, fallback, fast_resilience):
    primary.default = Reply(stall_s=10)

    result = await run([primary, fallback], impatient(fast_resilience, max_retries=1))

    assert result.text == "from the fallback"
    assert "no first token" in result.notices[0]
    assert len(primary.requests) == 2


async def test_mid_stream_failure_without_a_fallback_keeps_the_partial_answer(primary, fast_resilience):
    primary.script = [Reply(drop_after=2)]

    result = await run([primary], fast_resilience)

    assert result.text == "Hello, "
    assert "No other model" in result.notices[0]
    assert result.record.finish_reason == "error" and "stopped in the middle" in result.record.error


async def test_when_nothing_can_answer_the_stream_still_ends_with_a_record(primary, fallback, fast_resilience):
    primary.script = [Fail(refused_key(401))]
    fallback.script = [Fail(refused_key(403))]

    result = await run([primary, fallback], fast_resilience)

    assert result.text == ""
    assert result.notices[-1].endswith("No model could answer.") and "Fallback Model could not" in result.notices[-1]
    assert result.record.finish_reason == "error" and result.record.fallbacks == ("fallback-model",)


async def test_an_empty_decision_raises_before_sending_anything(fast_resilience):
    with pytest.raises(NoBackendAvailable, match="nothing local"):
        async for _ in execute(RouteDecision((), True, ("nothing local",)), MESSAGES, {}, max_tokens=8,
                               resilience=fast_resilience):
            pass


async def test_the_breaker_skips_a_failing_backend_then_probes_it(primary, fallback, fast_resilience):
    clock = Clock()
    fast_resilience.retry = RetryPolicy(max_retries=0)
    fast_resilience.breakers["primary"] = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=clock)
    primary.script = [Fail(server_error()), Fail(server_error())]

    for _ in range(2):
        assert (await run([primary, fallback], fast_resilience)).record.backend == "fallback"
    assert len(primary.requests) == 2

    skipped = await run([primary, fallback], fast_resilience)
    assert skipped.record.backend == "fallback"
    assert skipped.notices == ["Primary Model is paused after repeated failures (the provider had an error (HTTP 500); "
                               "next try in 30 s). Answering with Fallback Model."]
    assert len(primary.requests) == 2  # open: not even tried

    clock.now += 31
    probed = await run([primary, fallback], fast_resilience)
    assert probed.record.backend == "primary" and fast_resilience.breakers["primary"].state == "closed"


async def test_a_bad_request_falls_back_without_tripping_the_breaker(primary, fallback, fast_resilience):
    primary.script = [Fail(BadRequest("the provider rejected the request (HTTP 400)", status_code=400))]

    result = await run([primary, fallback], fast_resilience)

    assert result.record.backend == "fallback" and result.record.retries == 0
    assert fast_resilience.breakers["primary"].consecutive_failures == 0


async def test_a_request_every_model_refuses_is_marked_as_the_callers_fault(primary, fallback, fast_resilience):
    primary.script = [Fail(BadRequest("the provider rejected the request (HTTP 400)", status_code=400))]
    fallback.script = [Fail(BadRequest("the request is too large (HTTP 413)", status_code=413))]

    refused = await run([primary, fallback], fast_resilience)

    assert refused.record.finish_reason == "error" and refused.record.request_rejected
    assert all(breaker.consecutive_failures == 0 for breaker in fast_resilience.breakers.values())

    primary.script = [Fail(BadRequest("the provider rejected the request (HTTP 400)", status_code=400))]
    fallback.script = [Fail(refused_key(401))]
    failed = await run([primary, fallback], fast_resilience)
    assert failed.record.finish_reason == "error" and not failed.record.request_rejected


async def test_stopping_the_stream_early_yields_no_record_and_leaves_the_breaker_alone(primary, fast_resilience):
    primary.default = Reply(chunks=tuple(f"w{i} " for i in range(50)))
    decision = RouteDecision((spec_for("primary", "primary-test"),), False, ("test",))

    stream = execute(decision, MESSAGES, {"primary": primary}, max_tokens=64, resilience=fast_resilience)
    first = await anext(stream)
    await stream.aclose()

    assert first == TextDelta("w0 ")
    breaker = fast_resilience.breakers["primary"]
    assert breaker.state == "closed" and breaker.consecutive_failures == 0


async def test_an_answer_closed_early_still_says_what_it_cost(primary, fast_resilience):
    primary.default = Reply(chunks=tuple(f"w{i} " for i in range(50)))
    decision = RouteDecision((spec_for("primary", "primary-test"),), False, ("test",))

    answer = AnswerStream(decision, MESSAGES, {"primary": primary}, max_tokens=64, resilience=fast_resilience)
    assert answer.record() is None, "nothing was sent yet"
    seen = [(await anext(answer)).text for _ in range(3)]
    await answer.aclose()  # the caller went away: no Completed event will come

    record = answer.record()
    assert record.finish_reason == "cancelled" and record.model_id == "primary-model"
    assert record.completion_tokens == estimate_tokens("".join(seen)) and record.prompt_tokens > 0
    assert record.cost_usd > 0


# --- over the wire: the real SDK clients against the scripted protocol servers ---------------


def wire_backend(server: wire.FakeServer, name: str, secret):
    if server.protocol == "gemini":
        return GeminiBackend(name=name, model=server.models[0], api_key=secret, base_url=server.base_url)
    if server.protocol == "ollama":
        return OllamaBackend(name=name, model=server.models[0], base_url=server.base_url, read_timeout_s=10)
    return GPTBackend(name=name, model=server.models[0], api_key=secret, base_url=server.base_url, read_timeout_s=10)


@pytest.fixture(params=PROTOCOLS)
async def provider(request):
    """A provider's server, one per wire protocol."""
    models = {"openai": ("gpt-test",), "ollama": ("llama-test:1b",), "gemini": ("gemini-test",)}[request.param]
    server = await wire.FakeServer(request.param, models=models).start()
    yield server
    await server.stop()


async def run_over_the_wire(server: wire.FakeServer, resilience, secret) -> Run:
    decision = RouteDecision((spec_for("primary", server.models[0]),), private=False, reasons=("test",))
    return await execute_all(decision, {"primary": wire_backend(server, "primary", secret)}, resilience)


async def test_each_protocols_answer_and_usage_reach_the_record(provider, fast_resilience, secret):
    result = await run_over_the_wire(provider, fast_resilience, secret)

    assert result.text == "Hello, world!" and result.notices == []
    record = result.record
    assert (record.backend, record.finish_reason) == ("primary", "stop")
    assert (record.prompt_tokens, record.completion_tokens) == (11, 4)
    assert record.ttft_s is not None and record.total_s >= record.ttft_s


async def test_a_stalled_sdk_stream_is_cut_by_the_first_token_timeout_and_retried(provider, fast_resilience, secret):
    provider.script = [wire.Reply(stall_s=10)]

    # 1.5 s: still ~100x what the local server needs, so only the stall trips it.
    result = await run_over_the_wire(provider, impatient(fast_resilience, first_token_s=1.5), secret)

    assert result.text == "Hello, world!" and result.record.retries == 1
    assert len(provider.generation_requests()) == 2


async def test_a_provider_that_cannot_be_reached_is_named_without_its_address(
    provider, fallback, fast_resilience, secret, caplog
):
    provider.default = wire.Hangup()
    caplog.set_level(logging.INFO)
    decision = RouteDecision((spec_for("primary", provider.models[0]), spec_for("fallback", "fallback-test")),
                             private=False, reasons=("test",))
    backends = {"primary": wire_backend(provider, "primary", secret), "fallback": fallback}

    result = await execute_all(decision, backends, fast_resilience)

    address = f"127.0.0.1:{provider.port}"
    assert result.text == "from the fallback" and "Primary Model could not answer" in result.notices[0]
    assert address not in result.transcript and "http" not in result.transcript, "notes are kept in the chat"
    assert address in caplog.text, "the log keeps the address for the operator"


async def test_mid_stream_failure_is_finished_by_the_real_local_model(openai_server, foundry_backend, fast_resilience, secret):
    openai_server.script = [wire.Reply(drop_after=2)]
    local = ModelSpec(id="smollm2", label="SmolLM2", provider="foundry-local", model=foundry_backend.model_name,
                      kind="local", context_length=8192)
    backends = {"primary": wire_backend(openai_server, "primary", secret), "foundry-local": foundry_backend}
    decision = RouteDecision((spec_for("primary", openai_server.models[0]), local), False, ("test",))
    result = await execute_all(decision, backends, fast_resilience, max_tokens=24)

    assert result.text.startswith("Hello, [… continued by SmolLM2] ")
    assert "cut off" not in result.text.lower() and "previous answer" not in result.text.lower()
    assert result.transcript.startswith("Hello, [Primary Model stopped in the middle")
    assert result.record.backend == "foundry-local" and result.record.fallbacks == ("smollm2",)
    assert result.record.models == ("primary-model", "smollm2")
    assert result.record.completion_tokens > 2


async def test_a_fallback_with_a_smaller_context_gets_the_conversation_trimmed_for_it(primary, fallback,
                                                                                      fast_resilience):
    primary.script = [Fail(refused_key())]
    history = [ChatMessage("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "words " * 60) for i in range(40)]
    messages = [MESSAGES[0], *history, MESSAGES[1]]
    small = dataclasses.replace(spec_for("fallback", "fallback-test"), context_length=1024)
    decision = RouteDecision((spec_for("primary", "primary-test"), small), private=False, reasons=("test",))

    events = [e async for e in execute(decision, messages, {"primary": primary, "fallback": fallback},
                                       max_tokens=64, resilience=fast_resilience)]

    assert Run(events).text == "from the fallback"
    assert len(primary.requests[0].messages) == len(messages), "the first model's context holds it all"
    sent = fallback.requests[0].messages
    assert sent[0] == MESSAGES[0] and sent[-1] == MESSAGES[1], "system prompt and new message stay"
    assert len(sent) < len(messages) and fits(sent, context_length=1024, max_output_tokens=64)


async def test_an_answer_that_starts_to_loop_is_stopped_before_the_loop_is_shown(primary, fast_resilience):
    line = "The website is 11:60; 12:30\n"
    primary.default = Reply(chunks=("Opening hours:\n", *[line] * 30))
    decision = RouteDecision((spec_for("primary", "primary-test"),), False, ("test",))

    answer = AnswerStream(decision, MESSAGES, {"primary": primary}, max_tokens=64, resilience=fast_resilience)
    result = Run([event async for event in answer])
    await answer.aclose()

    assert result.text == "Opening hours:\n" + line, "the repeated line is never shown"
    assert result.notices == [REPETITION_NOTICE]
    assert result.record.finish_reason == "repetition" and answer.record() is result.record
    assert result.record.completion_tokens == estimate_tokens("Opening hours:\n" + line * 2), \
        "billed for what the model generated until it was stopped"


# --- admission: a line in front of each backend ---------------------------------------------------------------


def one_at_a_time(resilience, backend: FakeBackend, *, first_token_s: float = 0.3, max_retries: int = 2):
    """`backend` takes one request at a time (others wait in its line); a short first-token limit."""
    return dataclasses.replace(impatient(resilience, max_retries, first_token_s), max_parallel={backend.name: 1})


async def ask(text: str, backend: FakeBackend, resilience, events: list | None = None) -> Run:
    """One message answered by `backend`; `events` fills up while it runs (for a test that watches)."""
    decision = RouteDecision((spec_for(backend.name, backend.model_names[0]),), private=False, reasons=("test",))
    events = [] if events is None else events
    async for event in execute(decision, [ChatMessage("user", text)], {backend.name: backend}, max_tokens=64,
                               temperature=0, resilience=resilience):
        events.append(event)
    return Run(events)


def queued(run_or_events) -> list[Queued]:
    events = run_or_events.events if isinstance(run_or_events, Run) else run_or_events
    return [e for e in events if isinstance(e, Queued)]


async def until(condition, timeout: float = 30) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def test_waiting_in_line_longer_than_the_first_token_limit_is_no_failure(fast_resilience):
    # The backend generates one answer at a time, as the in-process model did with its worker threads:
    # without a line in front of it, the others waited inside it with their first-token timeout running.
    held = Reply(hold_after=1)
    backend = FakeBackend("local", models=("local-test",), capacity=1)
    backend.script = [held]
    resilience = one_at_a_time(fast_resilience, backend, first_token_s=0.3)

    first = asyncio.ensure_future(ask("first", backend, resilience))
    waiting = [asyncio.ensure_future(ask(f"waiting {i}", backend, resilience)) for i in range(4)]
    await until(lambda: resilience.admission("local").waiting == 4)
    await asyncio.sleep(1.0)  # each waits more than three first-token limits
    held.release.set()
    runs = await asyncio.gather(first, *waiting)

    assert [run.text for run in runs] == ["Hello, world!"] * 5
    assert all(not run.record.error and run.record.retries == 0 for run in runs)
    breaker = resilience.breaker("local")
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 0)
    assert all(run.record.queued_s >= 0.9 for run in runs[1:]) and runs[0].record.queued_s == 0
    assert [r.messages[-1].content for r in backend.requests] == ["first", *(f"waiting {i}" for i in range(4))], \
        "first come, first served"


async def test_a_waiting_request_is_told_its_place_and_an_estimate_as_it_moves_up(fast_resilience):
    backend = FakeBackend("local", models=("local-test",))
    resilience = one_at_a_time(fast_resilience, backend)
    held = Reply(hold_after=1)
    backend.script = [held]

    runs = [asyncio.ensure_future(ask(f"message {i}", backend, resilience)) for i in range(4)]
    await until(lambda: resilience.admission("local").waiting == 3)
    held.release.set()
    *_, last = await asyncio.gather(*runs)

    assert [q.place for q in queued(last)] == [3, 2, 1]
    assert queued(last)[0].estimate_s is None, "nothing was timed before the first answer ended"
    assert all(q.estimate_s > 0 for q in queued(last)[1:]), "then the recent answers' times give an estimate"
    assert {q.model for q in queued(last)} == {"Local Model"}


async def test_a_request_stopped_while_it_waits_leaves_the_line_and_is_never_sent(fast_resilience):
    backend = FakeBackend("local", models=("local-test",))
    resilience = one_at_a_time(fast_resilience, backend)
    held = Reply(hold_after=1)
    backend.script = [held]
    stopped_events, behind_events = [], []

    first = asyncio.ensure_future(ask("first", backend, resilience))
    stopped = asyncio.ensure_future(ask("stopped", backend, resilience, stopped_events))
    behind = asyncio.ensure_future(ask("behind", backend, resilience, behind_events))
    await until(lambda: [q.place for q in queued(behind_events)] == [2])
    stopped.cancel()  # the user pressed stop (or the API client went away)
    await until(lambda: [q.place for q in queued(behind_events)] == [2, 1])
    held.release.set()
    await asyncio.gather(first, behind)

    assert stopped.cancelled()
    assert [r.messages[-1].content for r in backend.requests] == ["first", "behind"]
    line = resilience.admission("local")
    assert (line.waiting, line.running) == (0, 0)


async def test_a_retry_keeps_its_slot_instead_of_queueing_behind_everyone(fast_resilience):
    backend = FakeBackend("local", models=("local-test",))
    resilience = one_at_a_time(fast_resilience, backend)
    backend.script = [Fail(server_error())]

    runs = [asyncio.ensure_future(ask(f"message {i}", backend, resilience)) for i in range(3)]
    await asyncio.gather(*runs)

    assert [r.messages[-1].content for r in backend.requests] == ["message 0", "message 0", "message 1", "message 2"]


async def test_real_failures_of_running_requests_still_open_the_breaker(fast_resilience):
    backend = FakeBackend("local", models=("local-test",), default=Reply(stall_s=10))
    resilience = one_at_a_time(fast_resilience, backend, first_token_s=0.2, max_retries=0)

    results = await asyncio.gather(*(ask(f"message {i}", backend, resilience) for i in range(5)),
                                   return_exceptions=True)

    timed_out = [r for r in results if isinstance(r, Run)]
    paused = [r for r in results if isinstance(r, NoBackendAvailable)]
    assert len(timed_out) == 3 and all("no first token within 0.2 s" in r.record.error for r in timed_out), \
        "each running request's first-token limit counted from its send"
    assert len(paused) == 2 and all("paused after repeated failures" in str(e) for e in paused)
    assert resilience.breaker("local").state == "open" and len(backend.requests) == 3
