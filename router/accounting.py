"""What one answer cost, across every attempt it took (retries and fallbacks included).

Providers report usage only at the end of a stream, so an attempt that broke off
after sending text has no figures; it is estimated (`router.tokens`) because the
provider bills it all the same. So is an answer from a server
that does not report usage at all (some OpenAI-compatible servers).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from router.catalog import ModelSpec
from router.tokens import estimate_tokens
from router.types import CallRecord, ChatMessage, StreamEnd, Usage


@dataclass
class Attempt:
    """One request sent to one backend."""

    spec: ModelSpec
    backend: str
    messages: Sequence[ChatMessage]
    #: The text received, chunk by chunk (joined only when an estimate needs it).
    parts: list[str] = field(default_factory=list)
    end: StreamEnd | None = None

    @property
    def usage(self) -> Usage:
        """As reported; estimated when the stream broke off or the server reports no usage."""
        if self.end is not None and self.end.usage.total_tokens:
            return self.end.usage
        if self.parts:
            prompt = sum(estimate_tokens(m.content) for m in self.messages)
            return Usage(prompt, estimate_tokens("".join(self.parts)))
        return Usage()  # failed before any output: providers do not bill refused requests


@dataclass
class CallMeter:
    """Collects attempts and timings while the executor runs, then renders the `CallRecord`."""

    message_count: int
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    retries: int = 0
    queued_s: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)

    def begin(self, spec: ModelSpec, backend: str, messages: Sequence[ChatMessage]) -> Attempt:
        attempt = Attempt(spec, backend, messages)
        self.attempts.append(attempt)
        return attempt

    def text(self, attempt: Attempt, text: str) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        attempt.parts.append(text)

    def record(self, *, finish_reason: str, error: str = "", request_rejected: bool = False) -> CallRecord:
        """The accounting of the whole answer; backend and model are those of the last attempt."""
        last = self.attempts[-1]
        primary = self.attempts[0].spec.id
        fallbacks = tuple(dict.fromkeys(a.spec.id for a in self.attempts if a.spec.id != primary))
        answered = tuple(dict.fromkeys(a.spec.id for a in self.attempts if a.parts or a.end is not None))
        usages = [(a.spec, a.usage) for a in self.attempts]
        return CallRecord(
            backend=last.backend,
            model_id=last.spec.id,
            model=last.spec.model,
            prompt_tokens=sum(u.prompt_tokens for _, u in usages),
            completion_tokens=sum(u.completion_tokens for _, u in usages),
            cost_usd=sum(spec.cost(u.prompt_tokens, u.completion_tokens) for spec, u in usages),
            ttft_s=None if self.first_token_at is None else self.first_token_at - self.started,
            total_s=time.perf_counter() - self.started,
            finish_reason=finish_reason,
            retries=self.retries,
            fallbacks=fallbacks,
            models=answered,
            message_count=self.message_count,
            error=error,
            request_rejected=request_rejected,
            queued_s=self.queued_s,
        )
