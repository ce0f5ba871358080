"""The one contract every model provider implements (Foundry Local, Ollama, Gemini, GPT).

Like a plugin in Simon Willison's `llm`: the router never knows which SDK is behind a
backend. It calls `start()` once, then asks for `health()`, `models()` and
`stream(messages, params)`, and gets `TextDelta`s followed by exactly one `StreamEnd`
carrying the token usage; `aclose()` at shutdown.
A backend raises `router.errors.BackendError` subclasses, never SDK exceptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence

from router.types import Chunk, ChatMessage, GenerationParams, Health, Kind


class Backend(ABC):
    """A provider of chat models. Instances are long-lived and shared by all users."""

    #: Registry key and the name shown to users, e.g. "foundry-local".
    name: str
    #: "local" backends keep data on this machine; "cloud" ones send it out.
    kind: Kind

    async def start(self) -> None:
        """Load what the first request needs (the in-process model); called once at start-up.

        Nothing to do for a remote backend. `health()` reports a load still running or failed.
        """

    @abstractmethod
    async def health(self) -> Health:
        """Whether requests can be served now; must be cheap and never raise."""

    @abstractmethod
    async def models(self) -> list[str]:
        """The model names this backend can serve right now."""

    @abstractmethod
    def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[Chunk]:
        """Stream the answer to `messages`: `TextDelta`s, then one `StreamEnd`.

        Closing the iterator (the user pressed stop, or the task was cancelled) must
        stop the generation promptly and release what it holds.
        """

    async def aclose(self) -> None:
        """Release clients, threads and models. Called once at shutdown."""
