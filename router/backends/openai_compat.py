"""Any server that speaks OpenAI's chat-completions API.

GPT (api.openai.com or any compatible gateway via `OPENAI_BASE_URL`) and Ollama (its
`/v1` routes) are both this backend with different names, kinds and key rules.

Answers stream over plain aiohttp (`POST /chat/completions`, the events parsed by
`router.backends._sse`); the official `openai` client only lists the models (health).
Through the SDK (its httpx transport, its typed chunk models) a stream cost the gateway
most of its CPU, and the API streamed 50 concurrent clients at half the provider's
rate (bench/bench_gateway.py). Nothing here retries: `router.resilience` decides what
is retried, so a failing provider is not hammered by two retry loops at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence

import aiohttp
import openai
from pydantic import SecretStr

from router.backends._http import error_from_status, translated
from router.backends._remote import RemoteBackend
from router.backends._sse import event_data
from router.errors import BackendError, BackendTimeout, BackendUnavailable
from router.types import ChatMessage, Chunk, GenerationParams, Kind, StreamEnd, TextDelta, Usage

log = logging.getLogger(__name__)
OPENAI_API = "https://api.openai.com/v1"


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
        self._session: aiohttp.ClientSession | None = None

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

    def _http(self) -> aiohttp.ClientSession:
        """The session answers stream over, created on first use (inside the event loop that uses it).

        No limit on connections: the router's admission line (`BACKEND_MAX_PARALLEL`) is the limit.
        """
        if self._session is None:
            connect, read = self._timeout
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                trust_env=True,  # HTTPS_PROXY / NO_PROXY, as the SDK's client honours them
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
            )
        return self._session

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
        """The provider's events as chunks; transport exceptions are translated by the caller.

        After `[DONE]` the body is read to its end, so the connection can be reused.
        """
        body = json.dumps(request, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if key := self._api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {key}"
        unreachable = None
        try:
            response = await self._http().post(self._url("chat/completions"), data=body, headers=headers)
        except aiohttp.ClientConnectionError as exc:
            if isinstance(exc, aiohttp.ServerTimeoutError):
                raise
            unreachable = self._unreachable(exc)  # refused, no such host, hung up before answering
        if unreachable is not None:  # raised outside the handler: the aiohttp error names the address
            raise unreachable
        async with response:
            if response.status >= 400:
                log.info("%s call to %s failed: HTTP %d", self.name, self._url(""), response.status)
                raise error_from_status(response.status, response.headers, self.name, self._key_env)
            usage, finish_reason = Usage(), "stop"
            async for data in event_data(_lines(response.content)):
                if data.startswith("[DONE]"):
                    continue
                chunk = json.loads(data)
                if chunk.get("error"):  # a provider's failure after the answer began
                    raise BackendError("the provider reported an error during the answer", backend=self.name,
                                       transient=True)
                for choice in chunk.get("choices") or ():
                    if text := (choice.get("delta") or {}).get("content"):
                        yield TextDelta(text)
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
                if counts := chunk.get("usage"):
                    usage = Usage(counts.get("prompt_tokens") or 0, counts.get("completion_tokens") or 0)
        yield StreamEnd(usage, finish_reason=finish_reason)

    def _url(self, path: str) -> str:
        return f"{(self.base_url or OPENAI_API).rstrip('/')}/{path}"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._session is not None:
            await self._session.close()

    # --- errors --------------------------------------------------------------------

    def _translate(self, exc: Exception) -> BackendError:
        """SDK and transport exceptions -> router errors, with messages safe to show (no key, no body, no address)."""
        log.info("%s call to %s failed: %s", self.name, self.base_url or "the OpenAI API", type(exc).__name__)
        if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
            return BackendTimeout("the server did not answer in time", backend=self.name)
        if isinstance(exc, openai.APIConnectionError):
            return self._unreachable(exc)
        if isinstance(exc, openai.APIStatusError):
            return error_from_status(exc.status_code, exc.response.headers, self.name, self._key_env)
        # Anything else was raised while reading the stream: a dropped connection or a broken chunk.
        return BackendError(f"the connection broke off ({type(exc).__name__})", backend=self.name, transient=True)

    def _unreachable(self, exc: Exception) -> BackendUnavailable:
        log.info("%s call to %s failed: %s", self.name, self.base_url or "the OpenAI API", type(exc).__name__)
        return BackendUnavailable(f"cannot reach {self._where()}", backend=self.name)

    def _where(self) -> str:
        """The server, for users: the setting that names it, never its address (the log has that)."""
        return "the server set in OPENAI_BASE_URL" if self.base_url else "the OpenAI API"



async def _lines(content: aiohttp.StreamReader) -> AsyncIterator[str]:
    """The body's lines, without their line breaks."""
    async for line in content:
        yield line.decode("utf-8").rstrip("\r\n")
