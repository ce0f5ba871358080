"""Calling providers well: timeouts, retries with jittered backoff, and a circuit breaker per backend.

Modelled on the LiteLLM router, with its lessons kept: only transient failures are
retried (429 honouring Retry-After, 5xx, dropped connections, timeouts), never
400/401/403; a backend that keeps failing is cooled down and skipped, then probed
again by a single request (half-open) before it takes traffic again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from router.admission import Admission
from router.errors import AuthenticationFailed, BackendError, BackendTimeout, BadRequest, RateLimited
from settings import Settings


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed for the first token and for the whole answer (retries and fallbacks included).

    The connect timeout belongs to each SDK client (`CONNECT_TIMEOUT_S`, set by the registry).
    """

    first_token_s: float = 30.0
    total_s: float = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried on the same backend."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    #: A Retry-After longer than this is not waited for: the call falls back instead.
    max_wait_s: float = 10.0

    def should_retry(self, error: BackendError, retries_so_far: int) -> bool:
        """Only transient failures, and only so often (`delay` may still decline a long Retry-After)."""
        return error.transient and retries_so_far < self.max_retries

    def delay(self, error: BackendError, retries_so_far: int) -> float | None:
        """Seconds to wait before retry number `retries_so_far + 1`, or None when waiting is not worth it.

        The provider's Retry-After wins when it gave one; otherwise exponential backoff
        with full jitter, so many clients hit by the same outage do not retry in step.
        """
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_wait_s else None
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**retries_so_far))


class CircuitBreaker:
    """Closed (normal) -> open after `failure_threshold` consecutive failures -> half-open after the cooldown.

    Half-open lets exactly one probe through: its success closes the circuit, its
    failure opens it for another cooldown. A rate limit with a Retry-After opens the
    circuit at once for that long, since every call before then would be refused.
    """

    def __init__(self, failure_threshold: int = 3, cooldown_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.consecutive_failures = 0
        self._open_until: float | None = None
        self._probe_in_flight = False
        self.last_error = ""

    @property
    def state(self) -> str:
        if self._open_until is None:
            return "closed"
        return "open" if self._clock() < self._open_until else "half-open"

    def seconds_until_probe(self) -> float:
        return 0.0 if self._open_until is None else max(0.0, self._open_until - self._clock())

    def allow(self) -> bool:
        """May a request go out now? In half-open state only one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._open_until = None
        self._probe_in_flight = False
        self.last_error = ""

    def record_failure(self, error: BackendError) -> None:
        """Count a failure the backend is responsible for.

        A bad request (too long, invalid text) is the caller's: it is not counted, and a probe
        it ended gave no verdict, so the next request may probe. Otherwise anyone able to send a
        malformed request could pause a backend for everybody.
        """
        if isinstance(error, BadRequest):
            self.release_probe()
            return
        self.last_error = error.message
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        self.consecutive_failures += 1
        if isinstance(error, RateLimited) and error.retry_after:
            self._open_until = self._clock() + error.retry_after
        elif was_probe or isinstance(error, AuthenticationFailed) or self.consecutive_failures >= self.failure_threshold:
            self._open_until = self._clock() + self.cooldown_s

    def release_probe(self) -> None:
        """The probe ended without a verdict (the user stopped it): let the next request probe."""
        self._probe_in_flight = False


@dataclass
class Resilience:
    """The resilience settings of one process, and the breakers and lines of its backends (shared by all users).

    `max_parallel` names backends with their own concurrency limit (the in-process model, Ollama);
    every other backend (a cloud provider) takes `default_max_parallel` requests at once.
    """

    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    failure_threshold: int = 3
    cooldown_s: float = 30.0
    max_parallel: dict[str, int] = field(default_factory=dict)
    default_max_parallel: int = 64
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    admissions: dict[str, Admission] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Resilience:
        return cls(
            timeouts=Timeouts(settings.first_token_timeout_s, settings.total_timeout_s),
            retry=RetryPolicy(max_retries=settings.max_retries, max_wait_s=settings.max_retry_wait_s),
            failure_threshold=settings.breaker_failure_threshold,
            cooldown_s=settings.breaker_cooldown_s,
            max_parallel={"foundry-local": settings.foundry_max_parallel, "ollama": settings.ollama_max_parallel},
            default_max_parallel=settings.backend_max_parallel,
        )

    def breaker(self, backend_name: str) -> CircuitBreaker:
        if backend_name not in self.breakers:
            self.breakers[backend_name] = CircuitBreaker(self.failure_threshold, self.cooldown_s)
        return self.breakers[backend_name]

    def admission(self, backend_name: str) -> Admission:
        if backend_name not in self.admissions:
            limit = self.max_parallel.get(backend_name, self.default_max_parallel)
            self.admissions[backend_name] = Admission(limit)
        return self.admissions[backend_name]


async def with_timeouts(
    chunks: AsyncIterator, *, first_item_s: float, deadline: float, backend: str
) -> AsyncIterator:
    """Re-yield `chunks`, raising `BackendTimeout` if the first item or the end takes too long.

    `deadline` is a `time.monotonic()` instant for the whole answer (shared by retries
    and fallbacks). The source iterator is always closed, so the provider call stops.
    """
    first = True
    try:
        while True:
            remaining = deadline - time.monotonic()
            limit = min(first_item_s, remaining) if first else remaining
            if limit <= 0:
                raise BackendTimeout("the answer took longer than the time allowed", backend=backend)
            try:
                # asyncio.timeout, not wait_for: the SDK's stream must stay in this task.
                async with asyncio.timeout(limit):
                    item = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                what = "no first token" if first and limit == first_item_s else "the answer was not finished"
                raise BackendTimeout(f"{what} within {limit:g} s", backend=backend) from None
            first = False
            yield item
    finally:
        await chunks.aclose()
