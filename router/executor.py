"""Run a decision: stream from the first candidate that works, retry and fall back, account for it all.

Per candidate (in the decision's order, so a private route never reaches a cloud model):
skip it while its circuit breaker is open; otherwise wait in its line for a free slot
(`router.admission`: `Queued` events say where the request stands; the wait is no
failure and no timeout runs meanwhile), then stream under the first-token and
whole-answer timeouts, retrying transient failures that happened before any text
(in the same slot: a retry does not queue again behind everyone).
A failure after text was shown is not retried on the same backend (it may fail the
same way while the user waits): the next candidate continues the answer instead
(`router.continuation` says how, and how the two parts are joined).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from functools import lru_cache

from router.accounting import CallMeter
from router.admission import Ticket
from router.backends.base import Backend
from router.catalog import ModelSpec
from router.continuation import Seam, continuation_messages
from router.conversation import fit_to_context
from router.decision import RouteDecision
from router.errors import BackendError, BadRequest, NoBackendAvailable
from router.repetition import RepetitionGuard
from router.resilience import CircuitBreaker, Resilience, with_timeouts
from router.types import (
    CallRecord, ChatMessage, Completed, GenerationParams, Notice, Queued, RouterEvent, StreamEnd, TextDelta,
)

log = logging.getLogger(__name__)

REPETITION_NOTICE = "The answer stops here: the model began repeating itself. Ask again, or rephrase the question."


@lru_cache(maxsize=1)
def shared_resilience() -> Resilience:
    """The process-wide breakers and limits from the settings, for callers that pass none."""
    from settings import get_settings

    return Resilience.from_settings(get_settings())


async def execute(
    decision: RouteDecision,
    messages: Sequence[ChatMessage],
    backends: Mapping[str, Backend],
    *,
    max_tokens: int,
    temperature: float = 0.7,
    top_p: float | None = None,
    resilience: Resilience | None = None,
    meter: CallMeter | None = None,
) -> AsyncIterator[RouterEvent]:
    """Yield `TextDelta`s, `Queued` while waiting for a slot, `Notice`s when the user should know something,
    then one `Completed`.

    Raises `NoBackendAvailable` only when nothing was sent: the decision lists no model,
    or every one is disabled or paused by its breaker. Any failure after a request went
    out ends the stream normally: a `Notice` says what happened and the `Completed`
    record carries `finish_reason="error"` and `error`. `meter` (see `AnswerStream`)
    lets the caller read what was spent when it stops the stream before its end.
    """
    if not decision.candidates:
        raise NoBackendAvailable("; ".join(decision.reasons) or "no model can answer now")
    resilience = resilience or shared_resilience()
    timeouts = resilience.timeouts
    deadline = time.monotonic() + timeouts.total_s
    meter = meter or CallMeter(message_count=len(messages))
    shown: list[str] = []  # everything the user has seen, across fallbacks
    problems: list[str] = []  # one sentence per candidate that could not answer (or finish)
    told = 0  # how many of them the user has read in a Notice
    refused_by_all = True  # every model tried so far refused the request itself (BadRequest)

    for spec in decision.candidates:
        backend = backends.get(spec.provider)
        breaker = resilience.breaker(spec.provider)
        if backend is None:
            problems.append(f"{spec.label} is not enabled.")
            continue
        if breaker.state == "open":
            problems.append(_paused(spec, breaker))
            continue
        admission = resilience.admission(spec.provider)
        ticket = admission.join()
        try:
            if not ticket.admitted:  # waiting is not the backend's fault: no timeout runs, no breaker counts it
                joined = time.monotonic()
                async for queued in _until_admitted(ticket, spec.label):
                    yield queued
                waited = time.monotonic() - joined
                meter.queued_s += waited
                deadline += waited  # the time allowed for the answer counts from when it runs
            if not breaker.allow():  # it opened, or another request is its probe, while this one waited
                problems.append(_paused(spec, breaker))
                continue
            if len(problems) > told:
                verb = "Continuing" if shown else "Answering"
                yield Notice(" ".join([*problems[told:], f"{verb} with {spec.label}."]))
                told = len(problems)
            # Trimmed for this model: a fallback may have a smaller context than the model first chosen.
            fitting = fit_to_context(messages, context_length=spec.context_length, max_output_tokens=max_tokens)
            conversation = continuation_messages(fitting, "".join(shown)) if shown else list(fitting)
            params = GenerationParams(model=spec.model, max_tokens=max_tokens, temperature=temperature, top_p=top_p)
            retries = 0
            while True:
                attempt = meter.begin(spec, backend.name, conversation)
                seam = Seam(spec.label, "".join(shown)) if shown else None
                try:
                    async with aclosing(with_timeouts(
                        backend.stream(conversation, params),
                        first_item_s=timeouts.first_token_s, deadline=deadline, backend=backend.name,
                    )) as chunks:
                        async for chunk in chunks:
                            if isinstance(chunk, TextDelta):
                                meter.text(attempt, chunk.text)
                                if text := (seam.feed(chunk.text) if seam else chunk.text):
                                    shown.append(text)
                                    yield TextDelta(text)
                            elif isinstance(chunk, StreamEnd):
                                attempt.end = chunk
                    if seam and (text := seam.end()):
                        shown.append(text)
                        yield TextDelta(text)
                except BackendError as error:
                    error.backend = error.backend or backend.name
                    log.warning("%s failed (%s): %s", spec.id, type(error).__name__, error.message)
                    breaker.record_failure(error)  # a bad request is the caller's: the breaker does not count it
                    refused_by_all = refused_by_all and isinstance(error, BadRequest)
                    if attempt.parts:
                        problems.append(f"{spec.label} stopped in the middle of the answer ({error.message}).")
                        break
                    delay = _retry_delay(resilience, breaker, error, retries, deadline)
                    if delay is not None:
                        retries += 1
                        meter.retries += 1
                        await asyncio.sleep(delay)
                        continue
                    problems.append(f"{spec.label} could not answer ({error.message}).")
                    break
                except BaseException:
                    breaker.release_probe()  # the user stopped the answer: no verdict on the backend
                    raise
                breaker.record_success()
                admission.leave(ticket)  # the next in line need not wait for the caller to read the end
                yield Completed(meter.record(finish_reason=attempt.end.finish_reason if attempt.end else "stop"))
                return
        finally:
            admission.leave(ticket)  # the slot goes to the next in line (retries above kept it)

    if not meter.attempts:
        raise NoBackendAvailable(" ".join(problems) or "no model can answer now")
    ending = "No other model this conversation may use could finish it." if shown else "No model could answer."
    yield Notice(" ".join([*problems[told:], ending]))
    yield Completed(meter.record(finish_reason="error", error=" ".join(problems),
                                 request_rejected=refused_by_all and not shown))


class AnswerStream:
    """`execute` as an async iterator that can say what the answer cost, however it ended.

    Providers bill what they generated even when nobody read it to the end, so a caller
    that stops early (an API client went away) still charges the user: `record()` is then
    the accounting so far (broken-off attempts estimated, see `router.accounting`).

    Every answer passes a `RepetitionGuard`: one that starts to loop is stopped before the
    loop is shown, with a `Notice`, and its record says `finish_reason="repetition"`.
    """

    def __init__(self, decision: RouteDecision, messages: Sequence[ChatMessage], backends: Mapping[str, Backend],
                 **options) -> None:
        self._meter = CallMeter(message_count=len(messages))
        self._events = execute(decision, messages, backends, meter=self._meter, **options)
        self._guard = RepetitionGuard()
        self._pending: list[RouterEvent] = []  # events to hand out before reading on
        self._completed: CallRecord | None = None

    def __aiter__(self) -> AnswerStream:
        return self

    async def __anext__(self) -> RouterEvent:
        while not self._pending:
            if self._completed is not None:
                raise StopAsyncIteration
            self._pending = await self._guarded(await anext(self._events))
        event = self._pending.pop(0)
        if isinstance(event, Completed):
            self._completed = event.record
        return event

    async def _guarded(self, event: RouterEvent) -> list[RouterEvent]:
        """What the user may see of `event`: nothing of a loop, and the held-back rest at the end."""
        if isinstance(event, TextDelta):
            shown = [TextDelta(text)] if (text := self._guard.feed(event.text)) else []
            if not self._guard.looping:
                return shown
            await self._events.aclose()
            log.info("%s began repeating itself: answer stopped", self.model_id)
            return [*shown, Notice(REPETITION_NOTICE), Completed(self._meter.record(finish_reason="repetition"))]
        if isinstance(event, Completed):
            return [TextDelta(text), event] if (text := self._guard.finish()) else [event]
        return [event]

    @property
    def model_id(self) -> str | None:
        """The catalog id of the model writing the answer now (None before the first request)."""
        return self._meter.attempts[-1].spec.id if self._meter.attempts else None

    async def aclose(self) -> None:
        """Stop the answer (a no-op once it ended): the provider's stream is closed at once."""
        await self._events.aclose()

    def record(self) -> CallRecord | None:
        """The `Completed` record; before it, what was spent so far (None while nothing was sent)."""
        if self._completed is not None:
            return self._completed
        return self._meter.record(finish_reason="cancelled") if self._meter.attempts else None


def _retry_delay(
    resilience: Resilience, breaker: CircuitBreaker, error: BackendError, retries: int, deadline: float
) -> float | None:
    """Seconds to wait before retrying the same backend, or None to move on to the next candidate.

    A breaker that opened because of this failure means "stop sending here", unless it
    opened for the provider's own Retry-After, which is exactly the wait being honoured.
    """
    if not resilience.retry.should_retry(error, retries):
        return None
    delay = resilience.retry.delay(error, retries)
    if delay is None or time.monotonic() + delay >= deadline:
        return None
    if breaker.state == "open" and error.retry_after is None:
        return None
    return delay


def _paused(spec: ModelSpec, breaker: CircuitBreaker) -> str:
    return (f"{spec.label} is paused after repeated failures ({breaker.last_error}; "
            f"next try in {breaker.seconds_until_probe():.0f} s).")


async def _until_admitted(ticket: Ticket, label: str) -> AsyncIterator[Queued]:
    """A `Queued` when the request joins the line and whenever it moves up, until it gets its slot."""
    place = 0
    while not ticket.admitted:
        if ticket.place != place:
            place = ticket.place
            yield Queued(place, ticket.estimate_s, label)
        await ticket.moved()
