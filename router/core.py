"""`Router`: the facade the app, the CLI, the gateway and notebooks use.

It owns the catalog and the backends, asks the policy where a message goes
(`route`) and runs that decision (`stream`). It knows nothing of Chainlit, the
database or Chroma: callers hand it the conversation and any retrieved passages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from router.backends.base import Backend
from router.catalog import ModelCatalog
from router.decision import RouteDecision, RouteRequest
from router.executor import AnswerStream
from router.policy import RoutingPolicy
from router.registry import build_backends, load_catalog
from router.resilience import Resilience
from router.types import ChatMessage, Health
from settings import Settings


class Router:
    """Chooses a model for each message and streams its answer."""

    #: How long a message waits for models still loading at start-up before routing without them.
    WARM_UP_WAIT_S = 120.0

    def __init__(
        self, catalog: ModelCatalog, backends: Mapping[str, Backend], *, max_tokens: int = 512,
        resilience: Resilience | None = None, policy: RoutingPolicy | None = None,
    ) -> None:
        self.catalog = catalog
        self.backends = dict(backends)
        self.max_tokens = max_tokens
        self.resilience = resilience or Resilience()
        self.policy = policy or RoutingPolicy()
        self._warm_up: asyncio.Future | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Router:
        """The router exactly as the app builds it (notebooks and the CLI use this too)."""
        catalog = load_catalog(settings)
        return cls(
            catalog, build_backends(settings, catalog), max_tokens=settings.max_output_tokens,
            resilience=Resilience.from_settings(settings), policy=RoutingPolicy.from_settings(settings),
        )

    async def start(self) -> None:
        """Warm up backends that load something (the in-process model) and the policy's embedder."""
        if self._warm_up is None:
            self._warm_up = asyncio.ensure_future(asyncio.gather(
                *(b.start() for b in self.backends.values()),
                asyncio.to_thread(self.policy.warm_up),
            ))
        await self._warm_up

    async def _wait_for_warm_up(self) -> None:
        """A message that arrives while models load waits for them rather than finding none available."""
        if self._warm_up is not None and not self._warm_up.done():
            await asyncio.wait({self._warm_up}, timeout=self.WARM_UP_WAIT_S)

    async def health(self) -> dict[str, Health]:
        """Every provider the catalog names, with its state (a missing backend is unavailable)."""
        names = list(dict.fromkeys(spec.provider for spec in self.catalog))
        states = await asyncio.gather(*(self._health_of(name) for name in names))
        return dict(zip(names, states))

    async def _health_of(self, name: str) -> Health:
        backend = self.backends.get(name)
        if backend is None:
            return Health(False, reason="this provider is not enabled")
        return await backend.health()

    async def route(self, request: RouteRequest) -> RouteDecision:
        """The policy's decision, knowing each line's wait; scoring runs in a thread (the event loop stays responsive)."""
        await self._wait_for_warm_up()
        health = await self.health()
        return await asyncio.to_thread(self.policy.decide, request, self.catalog, health, waits=self.waits())

    def waits(self) -> dict[str, float | None]:
        """Each enabled backend's expected wait for a message joining its line now (None: not measured yet)."""
        return {name: self.resilience.admission(name).expected_wait_s() for name in self.backends}

    def stream(
        self, decision: RouteDecision, messages: Sequence[ChatMessage], *, temperature: float = 0.7,
        top_p: float | None = None, max_tokens: int | None = None,
    ) -> AnswerStream:
        """Stream the answer of `decision`: text deltas, notices, then one `Completed`.

        `max_tokens` may lower the configured limit (`output_limit`). A caller that stops early reads what was spent so far from the stream's `record()`.
        """
        return AnswerStream(
            decision, messages, self.backends, max_tokens=self.output_limit(max_tokens), temperature=temperature,
            top_p=top_p, resilience=self.resilience,
        )

    def output_limit(self, max_tokens: int | None = None) -> int:
        """The answer's token limit: `max_tokens` (API clients ask for it) may lower the configured one, never raise it."""
        return self.max_tokens if max_tokens is None else min(max_tokens, self.max_tokens)

    async def aclose(self) -> None:
        await asyncio.gather(*(b.aclose() for b in self.backends.values()))
