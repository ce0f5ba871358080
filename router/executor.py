"""Run a decision: stream the answer from its first candidate and account for the call."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence

from router.backends.base import Backend
from router.decision import RouteDecision
from router.errors import NoBackendAvailable
from router.types import (
    CallRecord, ChatMessage, Completed, GenerationParams, RouterEvent, StreamEnd, TextDelta, Usage,
)


async def execute(
    decision: RouteDecision,
    messages: Sequence[ChatMessage],
    backends: Mapping[str, Backend],
    *,
    max_tokens: int,
    temperature: float = 0.7,
) -> AsyncIterator[RouterEvent]:
    """Yield `TextDelta`s and finally one `Completed` with the call's accounting."""
    spec = decision.model
    if spec is None:
        raise NoBackendAvailable("; ".join(decision.reasons) or "no model can answer now")
    backend = backends[spec.provider]
    params = GenerationParams(model=spec.model, max_tokens=max_tokens, temperature=temperature)
    started = time.perf_counter()
    first_token_at: float | None = None
    end = StreamEnd(Usage(), finish_reason="cancelled")
    async for chunk in backend.stream(messages, params):
        if isinstance(chunk, TextDelta):
            if first_token_at is None:
                first_token_at = time.perf_counter()
            yield chunk
        elif isinstance(chunk, StreamEnd):
            end = chunk
    yield Completed(
        CallRecord(
            backend=backend.name,
            model_id=spec.id,
            model=spec.model,
            prompt_tokens=end.usage.prompt_tokens,
            completion_tokens=end.usage.completion_tokens,
            cost_usd=spec.cost(end.usage.prompt_tokens, end.usage.completion_tokens),
            ttft_s=None if first_token_at is None else first_token_at - started,
            total_s=time.perf_counter() - started,
            finish_reason=end.finish_reason,
            message_count=len(messages),
        )
    )
