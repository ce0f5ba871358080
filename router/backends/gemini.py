"""Gemini through `google-genai` (the Gemini Developer API, `streamGenerateContent?alt=sse`).

Gemini has no "system" or "assistant" turns: system messages become the request's
`systemInstruction`, assistant turns are role "model", and consecutive turns of one
role are merged (the API expects user and model to alternate). The SDK's own
retries are switched off so `router.resilience` alone decides what is retried.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import aiohttp
import httpx
import httpx2
from google import genai
from google.genai import errors, types
from pydantic import SecretStr

from router.backends._http import error_from_status, translated
from router.backends._remote import RemoteBackend
from router.errors import BackendError, BackendTimeout, BackendUnavailable
from router.types import ChatMessage, Chunk, GenerationParams, StreamEnd, TextDelta, Usage

log = logging.getLogger(__name__)

_KEY_ENV = "GEMINI_API_KEY"
_FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter"}


def to_gemini_contents(messages: Sequence[ChatMessage]) -> tuple[str | None, list[dict]]:
    """(system instruction, contents) for a conversation in the router's roles."""
    system = "\n\n".join(m.content for m in messages if m.role == "system") or None
    contents: list[dict] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].append({"text": message.content})
        else:
            contents.append({"role": role, "parts": [{"text": message.content}]})
    return system, contents


class GeminiBackend(RemoteBackend):
    """A cloud backend: unavailable (with the reason) until a Gemini API key is set."""

    kind = "cloud"

    def __init__(
        self,
        *,
        model: str,
        api_key: SecretStr,
        base_url: str | None = None,
        total_timeout_s: float = 300.0,
        name: str = "gemini",
    ) -> None:
        """`base_url` redirects the SDK (a proxy, or the test suite's local server)."""
        super().__init__()
        self.name = name
        self.model = model
        self.base_url = base_url or None
        self._api_key = api_key
        self._total_timeout_s = total_timeout_s
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = genai.Client(
                api_key=self._api_key.get_secret_value(),
                http_options=types.HttpOptions(
                    base_url=self.base_url,
                    timeout=int(self._total_timeout_s * 1000),
                    retry_options=types.HttpRetryOptions(attempts=1),
                ),
            )
        return self._client

    # --- contract ------------------------------------------------------------------

    def _missing_key(self) -> bool:
        return not self._api_key.get_secret_value()

    def _missing_key_reason(self) -> str:
        return f"{_KEY_ENV} (or GOOGLE_API_KEY) is not set"

    def _model_missing_reason(self) -> str:
        return f"the key has no access to the model '{self.model}'"

    async def _fetch_model_names(self) -> list[str]:
        pager = await self.client.aio.models.list(config={"page_size": 100})
        return sorted(model.name.removeprefix("models/") for model in pager.page if model.name)

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[Chunk]:
        self._require_key()
        system, contents = to_gemini_contents(messages)
        config = types.GenerateContentConfig(
            system_instruction=system,
            max_output_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
        )
        async for chunk in translated(self._stream(params.model, contents, config), self._translate):
            yield chunk

    async def _stream(self, model: str, contents, config) -> AsyncIterator[Chunk]:
        """The SDK's stream as chunks; its exceptions are translated by the caller."""
        usage, finish_reason = Usage(), "stop"
        response = await self.client.aio.models.generate_content_stream(model=model, contents=contents, config=config)
        try:
            async for chunk in response:
                text = "".join(
                    part.text
                    for candidate in chunk.candidates or ()
                    for part in (candidate.content.parts if candidate.content and candidate.content.parts else ())
                    if part.text and not part.thought
                )
                if text:
                    yield TextDelta(text)
                for candidate in chunk.candidates or ():
                    if candidate.finish_reason:
                        finish_reason = _FINISH_REASONS.get(_enum_name(candidate.finish_reason), "stop")
                if chunk.usage_metadata is not None:
                    usage = _usage(chunk.usage_metadata)
        finally:
            await response.aclose()
        yield StreamEnd(usage, finish_reason=finish_reason)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()

    # --- errors --------------------------------------------------------------------

    def _translate(self, exc: Exception) -> BackendError:
        """SDK and transport exceptions -> router errors, with messages safe to show (no key, no address)."""
        log.info("%s call to %s failed: %s", self.name, self.base_url or "the Gemini API", type(exc).__name__)
        if isinstance(exc, errors.APIError):
            # Google answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID, not 401.
            status = 401 if "API_KEY_INVALID" in str(exc.details) else exc.code
            headers = getattr(exc.response, "headers", None)
            return error_from_status(status, headers, self.name, _KEY_ENV)
        if isinstance(exc, (TimeoutError, httpx.TimeoutException, httpx2.TimeoutException)):
            return BackendTimeout("the server did not answer in time", backend=self.name)
        if _is_connect_error(exc):
            where = "the server set in GEMINI_BASE_URL" if self.base_url else "the Gemini API"
            return BackendUnavailable(f"cannot reach {where}", backend=self.name)
        return BackendError(f"the connection broke off ({type(exc).__name__})", backend=self.name, transient=True)


def _usage(metadata) -> Usage:
    """Thinking tokens are billed as output, so they count as completion tokens."""
    completion = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    return Usage(metadata.prompt_token_count or 0, completion)


def _enum_name(value) -> str:
    return getattr(value, "name", None) or str(value)


def _is_connect_error(exc: Exception) -> bool:
    """The SDK talks through aiohttp when it is installed, else httpx or httpx2."""
    return isinstance(exc, (aiohttp.ClientConnectorError, httpx.ConnectError, httpx2.ConnectError, ConnectionRefusedError))
