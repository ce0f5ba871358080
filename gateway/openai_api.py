"""`/v1/models` and `/v1/chat/completions`, following OpenAI's chat-completions schema.

Model `auto` lets the router decide; a catalog id pins that model. Privacy still rules:
a message with personal data pinned to a cloud model is answered by a local model
(an API client cannot be asked to confirm, and failing would break unattended
integrations), and the response says so: `model` names the model that really answered
(as OpenAI names the snapshot), and the `x-hybrid-private` / `x-hybrid-model` headers
and the `x_hybrid` field carry the route and its reasons.

When a model fails mid-answer and another one finishes it, the answer marks the seam
(see `router.continuation`) and `x_hybrid.models` lists both. A completion's `model` and
`x-hybrid-model` name the model that finished it; a stream's headers go out before the
first token, so there `x-hybrid-model` names the model the answer starts with, and each
chunk's `model` names the model that wrote it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from gateway.errors import GatewayError
from gateway.metrics import count_error, observe_answer, observe_route
from gateway.request_logs import bind_request_id
from gateway.service import ROUTE_NAME, Caller, Gateway
from router import (
    AUTO_PROFILE, AnswerStream, BackendError, CallRecord, ChatMessage, Notice, RouteDecision, RouteRequest, TextDelta,
)

log = logging.getLogger("hybrid_chat.gateway")
SOURCE = "gateway"
DEFAULT_TEMPERATURE = 0.7
#: Charges still being recorded after their request was cancelled (the event loop holds tasks only weakly).
_pending_charges: set[asyncio.Task] = set()


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[_Part] | None = None


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The fields the gateway honours; other OpenAI parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    n: int = 1
    tools: list | None = None
    #: The client's own end-user id (OpenAI's abuse-monitoring field), logged for tracing.
    user: str | None = None


def _text_of(message: _Message, index: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise GatewayError(400, f"Only text content is supported, not {part.type!r}.",
                               param=f"messages.{index}.content")
        texts.append(part.text)
    return "\n".join(texts)


def _parse(body: object) -> tuple[ChatCompletionRequest, tuple[ChatMessage, ...]]:
    try:
        request = ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        where = f"{param}: " if param else ""
        raise GatewayError(400, f"Invalid request: {where}{first['msg']}.", param=param) from None
    if request.n != 1:
        raise GatewayError(400, "Only n=1 is supported.", param="n")
    if request.tools:
        raise GatewayError(400, "Tools and function calling are not supported.", param="tools")
    messages = tuple(
        ChatMessage("system" if m.role == "developer" else m.role, _text_of(m, i))
        for i, m in enumerate(request.messages)
    )
    return request, messages


def _route_headers(rid: str, decision: RouteDecision, model_id: str) -> dict[str, str]:
    return {
        "x-request-id": rid,
        "x-hybrid-model": model_id,
        "x-hybrid-route": decision.route,
        "x-hybrid-private": "true" if decision.private else "false",
    }


def _route_info(decision: RouteDecision, record: CallRecord) -> dict:
    return {"backend": record.backend, "models": list(record.models), "route": decision.route,
            "private": decision.private, "reasons": list(decision.reasons)}


def _usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _sse(payload: dict | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def openai_routes(gateway: Gateway) -> APIRouter:
    """The OpenAI-compatible routes of `gateway`."""
    api = APIRouter()
    router = gateway.router

    async def list_models(request: Request) -> Response:
        bind_request_id(request.headers.get("x-request-id"))
        try:
            await gateway.authenticate(request.headers.get("authorization"))
        except GatewayError as exc:
            return exc.response()
        health = await router.health()
        models = [{"id": AUTO_PROFILE, "object": "model", "created": 0, "owned_by": "hybrid-chat",
                   "x_hybrid": {"label": "Auto: the router picks a model per message", "available": True}}]
        for spec in router.catalog:
            state = health.get(spec.provider)
            models.append({
                "id": spec.id, "object": "model", "created": 0, "owned_by": spec.provider,
                "x_hybrid": {"label": spec.label, "kind": spec.kind, "available": bool(state and state.available),
                             "reason": state.reason if state else "not configured"},
            })
        return JSONResponse({"object": "list", "data": models})

    async def chat_completions(request: Request) -> Response:
        rid = bind_request_id(request.headers.get("x-request-id"))
        try:
            caller = await gateway.authenticate(request.headers.get("authorization"))
            try:
                body = await request.json()
            except ValueError:
                raise GatewayError(400, "The request body is not valid JSON.") from None
            parsed, messages = _parse(body)
            if parsed.model != AUTO_PROFILE and router.catalog.get(parsed.model) is None:
                raise GatewayError(404, f"The model {parsed.model!r} does not exist. GET /v1/models lists them.",
                                   param="model", code="model_not_found")
            await gateway.admit(caller, [m.content for m in messages])
            log.info("chat completion for %s%s: model=%s, %d messages, stream=%s", caller.user,
                     f" (end user {parsed.user})" if parsed.user else "", parsed.model, len(messages), parsed.stream)
            decision = await router.route(
                RouteRequest(messages=messages, profile=parsed.model, privacy_choice="local")
            )
            observe_route(decision, parsed.model)
            log.info("route: %s", "; ".join(decision.reasons))
            if decision.model is None:
                count_error(SOURCE, "no_backend")
                raise GatewayError(503, "No model can answer now: " + "; ".join(decision.reasons),
                                   type="server_error", code="no_backend_available")
        except GatewayError as exc:
            return exc.response({"x-request-id": rid})
        max_tokens = parsed.max_completion_tokens or parsed.max_tokens
        temperature = DEFAULT_TEMPERATURE if parsed.temperature is None else parsed.temperature
        answer = router.stream(decision, messages, temperature=temperature, max_tokens=max_tokens)
        headers = _route_headers(rid, decision, decision.model.id)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if parsed.stream:
            include_usage = bool(parsed.stream_options and parsed.stream_options.include_usage)
            chunks = _stream(gateway, caller, decision, answer, completion_id, include_usage)
            return StreamingResponse(chunks, media_type="text/event-stream",
                                     headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"})
        try:
            completion = await _complete(gateway, caller, decision, answer, completion_id)
        except GatewayError as exc:
            return exc.response(headers)
        return JSONResponse(completion, headers=_route_headers(rid, decision, completion["model"]))

    api.add_api_route("/v1/models", list_models, methods=["GET"], name=ROUTE_NAME, include_in_schema=False)
    api.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"], name=ROUTE_NAME,
                      include_in_schema=False)
    return api


async def _complete(gateway: Gateway, caller: Caller, decision: RouteDecision, answer: AnswerStream,
                    completion_id: str) -> dict:
    """A non-streaming completion: the whole answer, or a 502 when the model failed."""
    parts: list[str] = []
    try:
        async with _charged(gateway, caller, answer):
            async for event in answer:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                elif isinstance(event, Notice):
                    log.info("notice: %s", event.text)
    except BackendError as exc:
        count_error(SOURCE, "backend")
        raise GatewayError(502, f"The model could not answer: {exc}", type="server_error",
                           code="backend_error") from exc
    record = answer.record()
    if record.error:
        raise GatewayError(502, f"The model could not answer: {record.error}", type="server_error",
                           code="backend_error")
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": record.model_id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)},
                     "finish_reason": record.finish_reason or "stop", "logprobs": None}],
        "usage": _usage(record.prompt_tokens, record.completion_tokens),
        "x_hybrid": _route_info(decision, record),
    }


async def _stream(
    gateway: Gateway, caller: Caller, decision: RouteDecision, answer: AnswerStream, completion_id: str,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """SSE chunks: the role, the text deltas, the finish reason, usage if asked, then [DONE]."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, model: str = decision.model.id) -> dict:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield _sse(chunk({"role": "assistant", "content": ""}))
    try:
        async with _charged(gateway, caller, answer):
            async for event in answer:
                if isinstance(event, TextDelta):
                    yield _sse(chunk({"content": event.text}, model=answer.model_id))
                elif isinstance(event, Notice):  # retries and fallbacks: for the operator, not inside the answer
                    log.info("notice: %s", event.text)
    except BackendError as exc:
        count_error(SOURCE, "backend")
        yield _sse(GatewayError(502, f"The model could not answer: {exc}", type="server_error",
                                code="backend_error").body())
        return
    record = answer.record()
    if record.error:
        yield _sse(GatewayError(502, f"The model could not finish: {record.error}", type="server_error",
                                code="backend_error").body())
        return
    final = chunk({}, record.finish_reason or "stop", record.model_id)
    final["x_hybrid"] = _route_info(decision, record)
    yield _sse(final)
    if include_usage:
        yield _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": record.model_id, "choices": [],
                    "usage": _usage(record.prompt_tokens, record.completion_tokens)})
    yield _sse("[DONE]")


@asynccontextmanager
async def _charged(gateway: Gateway, caller: Caller, answer: AnswerStream) -> AsyncIterator[None]:
    """Charge `caller` for `answer` when the block ends, however it ends.

    A client that goes away mid-stream ends the block with a cancellation (or by closing the
    generator): the model is stopped, and what it generated until then is still billed, so
    budgets cannot be dodged by disconnecting. The charge is shielded from that cancellation.
    """
    try:
        yield
    finally:
        try:
            await answer.aclose()
        finally:
            record = answer.record()
            if record is not None:  # None: nothing was sent, nothing to bill
                charge = asyncio.ensure_future(_account(gateway, caller, record))
                _pending_charges.add(charge)
                charge.add_done_callback(_pending_charges.discard)
                await asyncio.shield(charge)


async def _account(gateway: Gateway, caller: Caller, record: CallRecord) -> None:
    observe_answer(record, SOURCE)
    log.info("answered by %s: %d+%d tokens, first token %s s, total %.2f s, finish %s%s", record.model_id,
             record.prompt_tokens, record.completion_tokens,
             "n/a" if record.ttft_s is None else f"{record.ttft_s:.3f}", record.total_s, record.finish_reason,
             f", error: {record.error}" if record.error else "")
    await gateway.record(caller, record)
