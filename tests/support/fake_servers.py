"""Local servers that speak the providers' wire protocols, scripted per test (fixtures, not product code).

Built from the published API references:
- OpenAI chat completions (`POST /v1/chat/completions`, `stream: true`): Server-Sent
  Events `data: {chat.completion.chunk}` lines, a last chunk with empty `choices` and
  `usage` when `stream_options.include_usage` is true, then `data: [DONE]`;
  `GET /v1/models` lists `{"object": "list", "data": [{"id": ...}]}`. Ollama serves the
  same routes under `/v1`, and answers an unknown model with 404.
- Gemini (`POST /v1[beta]/models/{model}:streamGenerateContent?alt=sse`): SSE events of
  `GenerateContentResponse` JSON (`candidates[].content.parts[].text`, role "model",
  `finishReason` and `usageMetadata.promptTokenCount/candidatesTokenCount` at the end);
  errors as `{"error": {"code", "message", "status"}}`; `GET /v1[beta]/models` lists models.

Each generation request takes the next `Step` of the server's script (the `default`
step when the script is empty), and every request is recorded for assertions.
A `Reply` can also hold its stream part-way until the test releases it (an answer
still being generated), and a `Hangup` closes the connection without answering.
Run as a script it serves the OpenAI protocol forever (for the benchmark and the app's
end-to-end tests); `--record FILE` appends every request it receives to FILE as a JSON line,
`--gap-ms` paces the chunks like a model generating them, `--cut-at-max-tokens` stops each
answer at the request's `max_tokens`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Reply:
    """Stream `chunks`; optionally stall before the first one, pause `gap_s` after each (a model generating),
    stop at the request's `max_tokens` as providers do (`cut_at_max_tokens`), drop the connection after
    `drop_after` events, or hold after `hold_after` events until `release` is set (or the server stops)."""

    chunks: tuple[str, ...] = ("Hello", ", ", "world", "!")
    prompt_tokens: int = 11
    completion_tokens: int = 4
    stall_s: float = 0.0
    drop_after: int | None = None
    finish_reason: str = "stop"
    hold_after: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    gap_s: float = 0.0
    cut_at_max_tokens: bool = False


@dataclass
class Fail:
    """Answer with an HTTP error status (and headers such as Retry-After)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "failure scripted by the test"


@dataclass
class Hangup:
    """Close the connection without answering: to the client, the server cannot be reached."""


Step = Reply | Fail | Hangup

_GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict
    at: float


class FakeServer:
    """One provider on 127.0.0.1 (a free port). `protocol` is "openai", "ollama" or "gemini"."""

    def __init__(self, protocol: str = "openai", *, models: tuple[str, ...] = ("fake-model",), default: Step | None = None,
                 record_file: str | None = None):
        self.protocol = protocol
        self.models = models
        self.script: list[Step] = []
        self.default: Step = default or Reply()
        self.requests: list[Seen] = []
        self.record_file = record_file  # requests are also appended there (another process reads them)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> FakeServer:
        app = web.Application()
        if self.protocol == "gemini":
            for version in ("v1", "v1beta"):  # google-genai 3.x calls v1, older releases v1beta
                app.router.add_get(f"/{version}/models", self._gemini_models)
                app.router.add_post(f"/{version}/models/{{call}}", self._gemini_generate)
        else:
            app.router.add_get("/v1/models", self._openai_models)
            app.router.add_post("/v1/chat/completions", self._openai_generate)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What the SDK is given: the OpenAI client wants the `/v1` prefix, google-genai the bare host."""
        root = f"http://127.0.0.1:{self.port}"
        return root if self.protocol == "gemini" else f"{root}/v1"

    def generation_requests(self) -> list[Seen]:
        return [r for r in self.requests if not r.path.endswith("/models")]

    # --- shared ------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Seen:
        body = await request.json() if request.can_read_body else {}
        seen = Seen(request.path, dict(request.headers), body, time.monotonic())
        self.requests.append(seen)
        if self.record_file:
            with open(self.record_file, "a", encoding="utf-8") as record:
                record.write(json.dumps({"path": seen.path, "headers": seen.headers, "body": seen.body}) + "\n")
        return seen

    def _next_step(self) -> Step:
        return self.script.pop(0) if self.script else self.default

    async def _stream(self, request: web.Request, step: Reply, events, trailer: bytes = b"") -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        if step.stall_s:
            try:
                await asyncio.wait_for(self._closing.wait(), step.stall_s)
            except asyncio.TimeoutError:
                pass
        for index, event in enumerate(events):
            if index == step.hold_after:
                await self._until_released(step.release)
                if request.transport is None or request.transport.is_closing():
                    return response  # the client went away meanwhile
            if step.drop_after is not None and index >= step.drop_after:
                request.transport.close()  # no final chunk, no [DONE]: the client sees a broken stream
                return response
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
            await asyncio.sleep(step.gap_s)
        if trailer:
            await response.write(trailer)
        await response.write_eof()
        return response

    async def _until_released(self, release: asyncio.Event) -> None:
        waits = {asyncio.ensure_future(release.wait()), asyncio.ensure_future(self._closing.wait())}
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in pending:
            wait.cancel()

    @staticmethod
    def _hang_up(request: web.Request) -> web.Response:
        request.transport.close()
        return web.Response()  # never sent: the connection is gone

    # --- OpenAI / Ollama ----------------------------------------------------------

    async def _openai_models(self, request: web.Request) -> web.Response:
        await self._record(request)
        step = self.script[0] if self.script and isinstance(self.script[0], Fail) else None
        if step is not None:
            self.script.pop(0)
            return self._openai_error(step)
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    def _openai_error(self, step: Fail) -> web.Response:
        body = {"error": {"message": step.message, "type": "invalid_request_error", "code": str(step.status)}}
        return web.json_response(body, status=step.status, headers=step.headers)

    async def _openai_generate(self, request: web.Request) -> web.StreamResponse:
        seen = await self._record(request)
        step = self._next_step()
        if isinstance(step, Hangup):
            return self._hang_up(request)
        if isinstance(step, Fail):
            return self._openai_error(step)
        model = seen.body.get("model", "")
        if self.protocol == "ollama" and model not in self.models:
            message = f'model "{model}" not found, try pulling it first'
            return web.json_response({"error": {"message": message, "type": "api_error"}}, status=404)

        def chunk(delta: dict, finish: str | None) -> dict:
            return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        texts, finish_reason, completion_tokens = step.chunks, step.finish_reason, step.completion_tokens
        limit = seen.body.get("max_tokens")
        if step.cut_at_max_tokens and isinstance(limit, int) and limit < len(texts):
            texts, finish_reason, completion_tokens = texts[:limit], "length", limit
        events = [chunk({"role": "assistant", "content": text}, None) for text in texts]
        events.append(chunk({}, finish_reason))
        if (seen.body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": step.prompt_tokens, "completion_tokens": completion_tokens,
                     "total_tokens": step.prompt_tokens + completion_tokens}
            events.append({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                           "choices": [], "usage": usage})
        return await self._stream(request, step, events, trailer=b"data: [DONE]\n\n")

    # --- Gemini ----------------------------------------------------------------------

    async def _gemini_models(self, request: web.Request) -> web.Response:
        await self._record(request)
        models = [{"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": ["generateContent"]}
                  for m in self.models]
        return web.json_response({"models": models})

    async def _gemini_generate(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        step = self._next_step()
        if isinstance(step, Hangup):
            return self._hang_up(request)
        if isinstance(step, Fail):
            status = _GEMINI_STATUS.get(step.status, "UNKNOWN")
            body = {"error": {"code": step.status, "message": step.message, "status": status}}
            return web.json_response(body, status=step.status, headers=step.headers)
        model = request.match_info["call"].partition(":")[0]
        total = len(step.chunks)
        events = []
        for index, text in enumerate(step.chunks):
            candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
            event = {"candidates": [candidate], "modelVersion": model}
            if index == total - 1:
                candidate["finishReason"] = "MAX_TOKENS" if step.finish_reason == "length" else "STOP"
                event["usageMetadata"] = {"promptTokenCount": step.prompt_tokens,
                                          "candidatesTokenCount": step.completion_tokens,
                                          "totalTokenCount": step.prompt_tokens + step.completion_tokens}
            events.append(event)
        return await self._stream(request, step, events)


@contextmanager
def fake_openai_process(chunks: int, record_file: Path | None = None) -> Iterator[str]:
    """The fake OpenAI server in a process of its own, answering `chunks` tokens; yields its base URL.

    For browser tests, whose synchronous page calls would stall a server on the test's own loop.
    `record_file` receives every request, one JSON line each.
    """
    from tests.support.processes import stop_process

    command = [sys.executable, str(Path(__file__)), "--chunks", str(chunks)]
    if record_file is not None:
        command += ["--record", str(record_file)]
    fake = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        yield fake.stdout.readline().strip()
    finally:
        stop_process(fake, timeout=10)


async def _serve_forever(chunks: int, record_file: str | None, gap_ms: float, cut_at_max_tokens: bool) -> None:
    answer = Reply(chunks=tuple(f"tok{i} " for i in range(chunks)), completion_tokens=chunks, gap_s=gap_ms / 1000,
                   cut_at_max_tokens=cut_at_max_tokens)
    server = await FakeServer("openai", default=answer, record_file=record_file).start()
    print(server.base_url, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the fake OpenAI protocol on a free port (prints the base URL).")
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per answer")
    parser.add_argument("--record", metavar="FILE", help="append every request received to FILE (JSON lines)")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="pause after each chunk, like a model generating")
    parser.add_argument("--cut-at-max-tokens", action="store_true", help="stop each answer at the request's max_tokens")
    arguments = parser.parse_args()
    asyncio.run(_serve_forever(arguments.chunks, arguments.record, arguments.gap_ms, arguments.cut_at_max_tokens))
