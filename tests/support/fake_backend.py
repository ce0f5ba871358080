"""An in-process `Backend` that answers from a script and records what it was asked.

In the style of `llm`'s `MockModel`: tests of the logic above the backends (the executor,
the router, the answering pipeline) use it instead of a provider, so they need no HTTP
server, SDK or model. Each `stream()` takes the next step of `script` (the `default` step
when the script is empty); the vocabulary follows the wire fakes in `fake_servers`, where
the real SDK clients are tested. `start()` and `aclose()` are the contract's own: there is
nothing to load or release.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from router.backends.base import Backend
from router.errors import BackendError
from router.types import ChatMessage, Chunk, GenerationParams, Health, Kind, StreamEnd, TextDelta, Usage

#: What a stream cut off by `Reply.drop_after` raises: transient, like a connection that broke off.
DROPPED = "the connection broke off"


@dataclass(frozen=True)
class Reply:
    """Stream `chunks`, then the usage; optionally wait `stall_s` before the first chunk, hold after
    `hold_after` chunks until `release` is set (an answer still being generated), or break off
    after `drop_after` chunks (no usage then, as when a connection drops)."""

    chunks: tuple[str, ...] = ("Hello", ", ", "world", "!")
    prompt_tokens: int = 11
    completion_tokens: int = 4
    finish_reason: str = "stop"
    stall_s: float = 0.0
    drop_after: int | None = None
    hold_after: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Fail:
    """Raise `error` before any text, as a provider that refuses the request."""

    error: BackendError


Step = Reply | Fail


@dataclass(frozen=True)
class Request:
    """One call of `stream()`, as the backend received it."""

    messages: tuple[ChatMessage, ...]
    params: GenerationParams
    at: float  # time.monotonic() when the stream started


class FakeBackend(Backend):
    """A scripted backend, always available, that serves `models`.

    With a `capacity`, it generates that many answers at once and the others wait inside it
    before their first chunk, as requests wait for the in-process model's worker threads.
    """

    def __init__(
        self, name: str = "fake", kind: Kind = "cloud", *, models: tuple[str, ...] = ("fake-model",),
        default: Step | None = None, capacity: int | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.model_names = models
        self.script: list[Step] = []
        self.default: Step = default or Reply()
        self.requests: list[Request] = []
        self._workers = asyncio.Semaphore(capacity) if capacity else None

    async def health(self) -> Health:
        return Health(True, models=self.model_names)

    async def models(self) -> list[str]:
        return list(self.model_names)

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[Chunk]:
        self.requests.append(Request(tuple(messages), params, time.monotonic()))
        step = self.script.pop(0) if self.script else self.default
        if self._workers is None:
            async for chunk in self._play(step):
                yield chunk
            return
        async with self._workers:
            async for chunk in self._play(step):
                yield chunk

    async def _play(self, step: Step) -> AsyncIterator[Chunk]:
        if isinstance(step, Fail):
            raise step.error
        if step.stall_s:
            await asyncio.sleep(step.stall_s)
        for index, text in enumerate(step.chunks[: step.drop_after]):
            if index == step.hold_after:
                await step.release.wait()
            yield TextDelta(text)
            await asyncio.sleep(0)  # others run between chunks, as with a network stream
        if step.drop_after is not None:
            raise BackendError(DROPPED, backend=self.name, transient=True)
        yield StreamEnd(Usage(step.prompt_tokens, step.completion_tokens), step.finish_reason)
