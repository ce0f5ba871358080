"""`/v1/models` and `/v1/chat/completions`, following OpenAI's chat-completions schema.

Model `auto` lets the router decide; a catalog id pins that model. Privacy still rules:
a message with personal data pinned to a cloud model is answered by a local model
(an API client cannot be asked to confirm, and failing would break unattended
integrations), and the response says so: `model` names the model that really answered
(as OpenAI names the snapshot), and the `x-hybrid-private` / `x-hybrid-model` headers
and the `x_hybrid` field carry the route and its reasons.

A request the client got wrong is a 400 before any model sees it (null content, text that
is not valid Unicode, a conversation too long even when trimmed as the chat trims it), so
no client can make a backend fail, let alone pause it for everybody.

When a model fails mid-answer and another one finishes it, the answer marks the seam
(see `router.continuation`) and `x_hybrid.models` lists both. A completion's `model` and
`x-hybrid-model` name the model that finished it; a stream's headers go out before the
first token, so there `x-hybrid-model` names the model the answer starts with, and each
chunk's `model` names the model that wrote it.

A busy model is no error: the request waits in its line (`router.admission`) and
`x_hybrid.queued_s` says how long; a client that goes away meanwhile leaves the line.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from answering import Answer, Asker, ContextTooLong, Prepared, Question
from gateway.errors import GatewayError
from gateway.service import ROUTE_NAME, Gateway
from operations import LimitExceeded, bind_request_id, count_error
from router import AUTO_PROFILE, BackendError, CallRecord, ChatMessage, Notice, RouteDecision, TextDelta, describe_busy

log = logging.getLogger("hybrid_chat.gateway")
SOURCE = "gateway"
DEFAULT_TEMPERATURE = 0.7


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[_Part] | None = None
    tool_calls: list | None = None


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool = False


class ChatCompletionRequest(BaseModel):
    """The fields the gateway honours; other OpenAI parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: StrictBool = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int = 1
    tools: list | None = None
    #: The client's own end-user id (OpenAI's abuse-monitoring field), logged for tracing.
    user: str | None = None


def _chat_message(message: _Message, index: int) -> ChatMessage:
    """A client's message as the router's, refused (400) where OpenAI would refuse it or this API cannot serve it."""
    if message.tool_calls:
        raise GatewayError(400, "Tools and function calling are not supported.", param=f"messages.{index}.tool_calls")
    return ChatMessage("system" if message.role == "developer" else message.role, _text_of(message, index))


def _text_of(message: _Message, index: int) -> str:
    """The message's text, following OpenAI's semantics of null content (tool calls are refused earlier)."""
    param = f"messages.{index}.content"
    if message.content is None:
        raise GatewayError(400, f"Invalid request: {param}: null content is only valid in an assistant message "
                           "with tool_calls.", param=param)
    if isinstance(message.content, str):
        return _valid_unicode(message.content, param)
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise GatewayError(400, f"Only text content is supported, not {part.type!r}.", param=param)
        texts.append(part.text)
    return _valid_unicode("\n".join(texts), param)


def _valid_unicode(text: str, param: str) -> str:
    """`text`, unless it holds a lone surrogate (JSON's `\\ud800`).

    Refused rather than replaced: replacing would answer a text the client did not send, and
    no provider can encode it as it is. The client's encoding is at fault and only it can fix it.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise GatewayError(400, f"Invalid request: {param}: the text holds a lone surrogate, which is not "
                           "valid Unicode.", param=param) from None
    return text


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
    messages = tuple(_chat_message(m, i) for i, m in enumerate(request.messages))
    return request, messages


def _failure(record: CallRecord, verb: str) -> GatewayError:
    """A request every model refused is the client's to fix (400); any other failure is the models' (502)."""
    if record.request_rejected:
        return GatewayError(400, f"The request was refused: {record.error}", param="messages")
    return GatewayError(502, f"The model could not {verb}: {record.error}", type="server_error", code="backend_error")


def _route_headers(rid: str, decision: RouteDecision, model_id: str) -> dict[str, str]:
    return {
        "x-request-id": rid,
        "x-hybrid-model": model_id,
        "x-hybrid-route": decision.route,
        "x-hybrid-private": "true" if decision.private else "false",
    }


def _route_info(decision: RouteDecision, record: CallRecord) -> dict:
    return {"backend": record.backend, "models": list(record.models), "route": decision.route,
            "private": decision.private, "reasons": list(decision.reasons), "queued_s": round(record.queued_s, 3),
            "finish_reason": record.finish_reason}


def _openai_finish_reason(record: CallRecord) -> str:
    """OpenAI's word for how the answer ended: one stopped because it looped ended normally, shorter."""
    return "stop" if record.finish_reason in ("", "repetition") else record.finish_reason


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
            state = health[spec.provider]  # the router answers for every provider its catalog names
            models.append({
                "id": spec.id, "object": "model", "created": 0, "owned_by": spec.provider,
                "x_hybrid": {"label": spec.label, "kind": spec.kind, "available": state.available,
                             "reason": state.reason},
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
            except RecursionError:
                raise GatewayError(400, "The request body is nested too deeply.") from None
            parsed, messages = _parse(body)
            if parsed.model != AUTO_PROFILE and router.catalog.get(parsed.model) is None:
                raise GatewayError(404, f"The model {parsed.model!r} does not exist. GET /v1/models lists them.",
                                   param="model", code="model_not_found")
            log.info("chat completion for %s%s: model=%s, %d messages, stream=%s", caller.user,
                     f" (end user {parsed.user})" if parsed.user else "", parsed.model, len(messages), parsed.stream)
            # An API client cannot be asked to confirm: personal data is answered locally.
            question = Question(
                messages, profile=parsed.model, mode=None, privacy_choice="local", source=SOURCE,
                temperature=DEFAULT_TEMPERATURE if parsed.temperature is None else parsed.temperature,
                top_p=parsed.top_p, max_tokens=parsed.max_completion_tokens or parsed.max_tokens,
            )
            prepared = await _prepare(gateway, Asker(caller.user, caller.admin), question)
            try:
                answer = gateway.pipeline.answer(prepared)
            except ContextTooLong as exc:
                raise GatewayError(400, str(exc), param="messages", code="context_length_exceeded") from None
        except GatewayError as exc:
            return exc.response({"x-request-id": rid})
        decision = prepared.decision
        headers = _route_headers(rid, decision, decision.model.id)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if parsed.stream:
            include_usage = bool(parsed.stream_options and parsed.stream_options.include_usage)
            chunks = _stream(decision, answer, completion_id, include_usage)
            return StreamingResponse(chunks, media_type="text/event-stream",
                                     headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"})
        try:
            completion = await _complete(decision, answer, completion_id)
        except GatewayError as exc:
            return exc.response(headers)
        return JSONResponse(completion, headers=_route_headers(rid, decision, completion["model"]))

    api.add_api_route("/v1/models", list_models, methods=["GET"], name=ROUTE_NAME, include_in_schema=False)
    api.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"], name=ROUTE_NAME,
                      include_in_schema=False)
    return api


async def _prepare(gateway: Gateway, asker: Asker, question: Question) -> Prepared:
    """The pipeline's admission and route, as OpenAI-format errors (429/413 limits, 503 busy or nothing may answer)."""
    try:
        prepared = await gateway.pipeline.prepare(asker, question)
    except LimitExceeded as exc:
        headers = {"Retry-After": f"{exc.retry_after_s:.0f}"} if exc.retry_after_s else None
        if exc.status == 413:
            raise GatewayError(413, exc.message, code="message_too_long", param="messages") from exc
        raise GatewayError(429, exc.message, type="rate_limit_exceeded", code=exc.limit, headers=headers) from exc
    log.info("route: %s", "; ".join(prepared.decision.reasons))
    decision = prepared.decision
    if decision.retry_after_s is not None:  # the line is too long now, not broken: say when to come back
        raise GatewayError(503, describe_busy(decision), type="server_error", code="model_busy",
                           headers={"Retry-After": f"{decision.retry_after_s:.0f}"})
    if decision.model is None:
        raise GatewayError(503, "No model can answer now: " + "; ".join(decision.reasons),
                           type="server_error", code="no_backend_available")
    return prepared


async def _complete(decision: RouteDecision, answer: Answer, completion_id: str) -> dict:
    """A non-streaming completion: the whole answer, or a 502 when the model failed."""
    parts: list[str] = []
    try:
        async with answer:
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
        raise _failure(record, "answer")
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": record.model_id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)},
                     "finish_reason": _openai_finish_reason(record), "logprobs": None}],
        "usage": _usage(record.prompt_tokens, record.completion_tokens),
        "x_hybrid": _route_info(decision, record),
    }


async def _stream(decision: RouteDecision, answer: Answer, completion_id: str, include_usage: bool
                  ) -> AsyncIterator[bytes]:
    """SSE chunks: the role, the text deltas, the finish reason, usage if asked, then [DONE].

    A client that goes away mid-stream ends the `async with` block with a cancellation: the
    model is stopped, and what it generated until then is still billed (the pipeline records it).
    """
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, model: str = decision.model.id) -> dict:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield _sse(chunk({"role": "assistant", "content": ""}))
    try:
        async with answer:
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
        yield _sse(_failure(record, "finish").body())
        return
    final = chunk({}, _openai_finish_reason(record), record.model_id)
    final["x_hybrid"] = _route_info(decision, record)
    yield _sse(final)
    if include_usage:
        yield _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": record.model_id, "choices": [],
                    "usage": _usage(record.prompt_tokens, record.completion_tokens)})
    yield _sse("[DONE]")
