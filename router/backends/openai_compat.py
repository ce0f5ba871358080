"""Any server that speaks OpenAI's chat-completions API, through the official `openai` client.

GPT (api.openai.com or any compatible gateway via `OPENAI_BASE_URL`) and Ollama (its
`/v1` routes) are both this backend with different names, kinds and key rules. The
SDK's own retries are switched off: `router.resilience` decides what is retried,
so a failing provider is not hammered by two retry loops at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence

import openai
from pydantic import SecretStr

from router.backends._http import error_from_status, translated
from router.backends._remote import RemoteBackend
from router.errors import BackendError, BackendTimeout, BackendUnavailable
from router.types import ChatMessage, Chunk, GenerationParams, Kind, StreamEnd, TextDelta, Usage

log = logging.getLogger(__name__)


class OpenAICompatibleBackend(RemoteBackend):
    """Chat completions over HTTP with streaming and a final usage chunk."""

    def __init__(
        self,
        *,
        name: str,
        kind: Kind,
        model: str,
        base_url: str | None = None,
        api_key: SecretStr | None = None,
        key_env: str = "OPENAI_API_KEY",
        key_required: bool = True,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
    ) -> None:
        """`read_timeout_s` bounds the silence between two chunks; whole-answer limits are the executor's."""
        super().__init__()
        self.name = name
        self.kind = kind
        self.model = model
        self.base_url = base_url or None
        self._api_key = api_key if api_key is not None else SecretStr("")
        self._key_env = key_env
        self._key_required = key_required
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._client = None

    @property
    def client(self):
        """The SDK client, created on first use (never at start-up, so a missing key cannot crash it)."""
        if self._client is None:
            connect, read = self._timeout
            self._client = openai.AsyncOpenAI(
                # Servers without auth (Ollama) still need a non-empty key for the client.
                api_key=self._api_key.get_secret_value() or "unused",
                base_url=self.base_url,
                timeout=openai.Timeout(read, connect=connect),
                max_retries=0,
            )
        return self._client

    # --- contract ------------------------------------------------------------------

    def _missing_key(self) -> bool:
        return self._key_required and not self._api_key.get_secret_value()

    def _missing_key_reason(self) -> str:
        return f"{self._key_env} is not set"

    async def _fetch_model_names(self) -> list[str]:
        page = await self.client.models.list()
        return sorted(model.id for model in page.data)

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[Chunk]:
        self._require_key()
        request = {
            "model": params.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        async for chunk in translated(self._stream(request), self._translate):
            yield chunk

    async def _stream(self, request: dict) -> AsyncIterator[Chunk]:
        """The server-sent events as chunks; SDK exceptions (status, connection) are translated by the caller.

        The SDK sends the request and checks its status, but the events are read here as plain JSON:
        the SDK builds a pydantic object per chunk, the largest part of the event loop's work per token
        with many answers streaming at once (bench/bench_concurrency.py, profiled with py-spy).
        """
        usage, finish_reason = Usage(), "stop"
        async with self.client.chat.completions.with_streaming_response.create(**request) as response:
            async for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, comments (keep-alives), event names
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if chunk.get("error"):  # a provider's failure reported inside the stream (as the SDK reads it)
                    raise BackendError("the server reported an error in the middle of the answer",
                                       backend=self.name, transient=True)
                for choice in chunk.get("choices") or ():
                    if content := (choice.get("delta") or {}).get("content"):
                        yield TextDelta(content)
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
                if counts := chunk.get("usage"):
                    usage = Usage(counts.get("prompt_tokens") or 0, counts.get("completion_tokens") or 0)
        yield StreamEnd(usage, finish_reason=finish_reason)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # --- errors --------------------------------------------------------------------

    def _translate(self, exc: Exception) -> BackendError:
        """SDK and transport exceptions -> router errors, with messages safe to show (no key, no body, no address)."""
        log.info("%s call to %s failed: %s", self.name, self.base_url or "the OpenAI API", type(exc).__name__)
        if isinstance(exc, openai.APITimeoutError):
            return BackendTimeout("the server did not answer in time", backend=self.name)
        if isinstance(exc, openai.APIConnectionError):
            return BackendUnavailable(f"cannot reach {self._where()}", backend=self.name)
        if isinstance(exc, openai.APIStatusError):
            return error_from_status(exc.status_code, exc.response.headers, self.name, self._key_env)
        # Anything else was raised while reading the stream: a dropped connection or a broken chunk.
        return BackendError(f"the connection broke off ({type(exc).__name__})", backend=self.name, transient=True)

    def _where(self) -> str:
        """The server, for users: the setting that names it, never its address (the log has that)."""
        return "the server set in OPENAI_BASE_URL" if self.base_url else "the OpenAI API"

