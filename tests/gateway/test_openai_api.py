"""The OpenAI-compatible endpoints, driven by the real `openai` SDK over HTTP."""

from __future__ import annotations

import asyncio

import openai
import pytest
from sqlalchemy import text

from gateway.api_keys import issue_key, revoke_key
from persistence import usage_summary
from tests.support.fake_servers import Fail, Reply
from tests.support.gateway_server import (
    ADMIN_KEY, CLOUD_MODEL, LOCAL_MODEL, SERVICE_KEY, hold_the_local_line, start_gateway, until,
)

HELLO = [{"role": "user", "content": "Say hello."}]


async def test_models_lists_auto_and_every_catalog_model_with_its_availability(running):
    models = await running.client().models.list()
    by_id = {model.id: model for model in models.data}
    assert {"auto", LOCAL_MODEL, CLOUD_MODEL} <= set(by_id)
    assert by_id[LOCAL_MODEL].x_hybrid["available"] is True
    assert by_id["gemini-2.5-flash"].x_hybrid["available"] is False


async def test_a_non_streaming_completion_on_a_pinned_model(running):
    raw = await running.client().chat.completions.with_raw_response.create(model=LOCAL_MODEL, messages=HELLO)
    completion = raw.parse()
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Hello, world!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == LOCAL_MODEL
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (11, 4, 15)
    assert raw.headers["x-hybrid-route"] == "local" and raw.headers["x-request-id"]
    assert len(running.local.generation_requests()) == 1 and not running.cloud.generation_requests()


async def test_a_streaming_completion_sends_deltas_a_finish_reason_and_usage_when_asked(running):
    stream = await running.client().chat.completions.create(
        model=CLOUD_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}, max_tokens=7,
    )
    chunks = [chunk async for chunk in stream]
    text_ = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text_ == "Hello, world!"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 15
    sent = running.cloud.generation_requests()[0].body
    assert sent["max_tokens"] == 7, "the client's max_tokens reaches the provider"


async def test_streaming_without_include_usage_sends_no_usage_chunk(running):
    stream = await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(chunk.choices for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_auto_lets_the_router_decide_and_says_why(running):
    completion = await running.client().chat.completions.create(model="auto", messages=HELLO)
    route = completion.x_hybrid
    answered_by_cloud = bool(running.cloud.generation_requests())
    assert route["route"] == ("cloud" if answered_by_cloud else "local")
    assert completion.model == (CLOUD_MODEL if answered_by_cloud else LOCAL_MODEL)
    assert any("threshold" in reason for reason in route["reasons"])


async def test_personal_data_pinned_to_a_cloud_model_is_answered_locally_and_says_so(running):
    private = [{"role": "user", "content": "My e-mail is jane.doe@example.com, write me a signature."}]
    raw = await running.client().chat.completions.with_raw_response.create(model=CLOUD_MODEL, messages=private)
    completion = raw.parse()
    assert not running.cloud.generation_requests(), "a private prompt must never reach the cloud provider"
    assert len(running.local.generation_requests()) == 1
    assert completion.model == LOCAL_MODEL
    assert raw.headers["x-hybrid-private"] == "true" and raw.headers["x-hybrid-route"] == "local"
    assert completion.x_hybrid["private"] is True
    assert any("local only" in reason for reason in completion.x_hybrid["reasons"])


async def test_system_history_and_text_parts_reach_the_model_in_order(running):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "Go on."},
    ]
    await running.client().chat.completions.create(model=LOCAL_MODEL, messages=messages)
    sent = running.local.generation_requests()[0].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", "Be brief."), ("user", "Part one.\nPart two."), ("assistant", "Noted."), ("user", "Go on."),
    ]


async def test_an_unknown_model_is_404_in_openai_format(running):
    with pytest.raises(openai.NotFoundError) as caught:
        await running.client().chat.completions.create(model="gpt-99", messages=HELLO)
    error = caught.value.body
    assert caught.value.status_code == 404
    assert error["code"] == "model_not_found" and error["param"] == "model" and "gpt-99" in error["message"]


@pytest.mark.parametrize(("extra", "param"), [
    ({"n": 2}, "n"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages.0.content"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
    ({"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
       "function": {"name": "f", "arguments": "{}"}}]}, *HELLO]}, "messages.0.tool_calls"),
    ({"messages": []}, "messages"),
])
async def test_unsupported_or_invalid_requests_are_400_naming_the_parameter(running, extra, param):
    request = {"model": LOCAL_MODEL, "messages": HELLO} | extra
    with pytest.raises(openai.BadRequestError) as caught:
        await running.client().chat.completions.create(**request)
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["param"] == param, caught.value.body


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "The request body is not valid JSON"),
    (b"[1, 2]", "Invalid request: Input should be a valid dictionary"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', "Invalid request: model: Field required"),
])
async def test_a_malformed_body_is_400_with_a_readable_message(running, body, message):
    async with running.http() as http:
        headers = {"Authorization": f"Bearer {SERVICE_KEY}", "Content-Type": "application/json"}
        response = await http.post("/v1/chat/completions", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message), response.json()


@pytest.mark.parametrize("key", ["", "wrong-key", "hc-not-a-real-key-0000000000000000000000000"])
async def test_a_missing_or_wrong_key_is_401_in_openai_format(running, key):
    async with running.http() as http:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await http.post("/v1/chat/completions", json={"model": "auto", "messages": HELLO}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    if key:
        with pytest.raises(openai.AuthenticationError):
            await running.client(key).models.list()
    assert not running.local.generation_requests()


async def test_a_users_own_key_works_until_revoked(running):
    engine = await running.gateway.database()
    key, stored = await issue_key(engine, "dave", "laptop")
    completion = await running.client(key).chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
    assert completion.choices[0].message.content == "Hello, world!"
    async with engine.connect() as conn:
        query = text("SELECT key_hash, prefix FROM api_keys WHERE id = :id")
        hashes = (await conn.execute(query, {"id": stored.id})).one()
    assert key not in hashes.key_hash and key.startswith(hashes.prefix)

    assert await revoke_key(engine, "dave", stored.id)
    with pytest.raises(openai.AuthenticationError) as caught:
        await running.client(key).chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
    assert caught.value.body["code"] == "invalid_api_key"


async def test_usage_is_recorded_for_the_keys_user(running):
    engine = await running.gateway.database()
    before = sum(row.messages for row in await usage_summary(engine, "root"))
    await running.client(ADMIN_KEY).chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
    stream = await running.client(ADMIN_KEY).chat.completions.create(model=LOCAL_MODEL, messages=HELLO, stream=True)
    [chunk async for chunk in stream]
    rows = await usage_summary(engine, "root")
    assert sum(row.messages for row in rows) == before + 2
    assert {row.backend for row in rows} == {"ollama"}
    async with engine.connect() as conn:
        steps = (await conn.execute(text("SELECT step_id FROM message_usage WHERE user_identifier = 'root'"))).scalars()
        assert all(step.startswith("gateway:") for step in steps)


async def test_a_failing_model_is_502_without_streaming_and_an_error_event_when_streaming(running):
    running.local.default = Fail(500, message="the scripted provider broke")
    with pytest.raises(openai.InternalServerError) as caught:
        await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
    assert caught.value.status_code == 502 and caught.value.body["code"] == "backend_error"

    stream = await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as caught:
        [chunk async for chunk in stream]
    assert "could not" in caught.value.message


async def test_a_request_the_model_refuses_is_400_streaming_or_not_and_never_pauses_it(running):
    running.local.default = Fail(400, message="the scripted provider refused the request")
    for _ in range(4):  # more than the breaker's threshold
        with pytest.raises(openai.BadRequestError) as caught:
            await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        assert caught.value.body["type"] == "invalid_request_error"
        assert caught.value.body["message"].startswith("The request was refused: ")

    stream = await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as caught:
        [chunk async for chunk in stream]
    assert caught.value.body["type"] == "invalid_request_error"

    running.local.default = Reply()
    completion = await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
    assert completion.model == LOCAL_MODEL and completion.choices[0].message.content == "Hello, world!"


async def test_a_failing_cloud_model_falls_back_and_the_answer_names_the_model_that_answered(running):
    running.cloud.default = Fail(500, message="the scripted cloud broke")
    raw = await running.client().chat.completions.with_raw_response.create(model=CLOUD_MODEL, messages=HELLO)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello, world!"
    assert completion.model == raw.headers["x-hybrid-model"] == LOCAL_MODEL
    assert completion.x_hybrid["models"] == [LOCAL_MODEL] and completion.x_hybrid["backend"] == "ollama"
    assert running.cloud.generation_requests() and running.local.generation_requests()


@pytest.mark.parametrize("stream", [False, True])
async def test_an_answer_that_loops_ends_normally_without_the_loop(running, stream):
    running.local.script = [Reply(chunks=("Opening hours:\n", *["The website is 11:60; 12:30\n"] * 20))]
    client = running.client()
    if stream:
        chunks = [c async for c in await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO,
                                                                          stream=True)]
        text_ = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        final = chunks[-1]
    else:
        final = await client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        text_ = final.choices[0].message.content
    assert text_ == "Opening hours:\nThe website is 11:60; 12:30\n"
    assert final.choices[0].finish_reason == "stop" and final.x_hybrid["finish_reason"] == "repetition"


async def test_a_request_for_a_busy_model_waits_its_turn_and_reports_the_wait(tmp_path):
    async for running in start_gateway(tmp_path, OLLAMA_MAX_PARALLEL=1):
        held = Reply(hold_after=2)
        running.local.script = [held]
        client = running.client()
        first = asyncio.ensure_future(client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO))
        second = asyncio.ensure_future(client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO))
        line = running.gateway.router.resilience.admission("ollama")
        while line.waiting < 1:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        held.release.set()
        answers = await asyncio.gather(first, second)

    assert [a.choices[0].message.content for a in answers] == ["Hello, world!"] * 2, "waiting is no error"
    assert sorted(a.x_hybrid["queued_s"] for a in answers)[0] == 0
    assert sorted(a.x_hybrid["queued_s"] for a in answers)[1] >= 0.5


async def test_fifty_concurrent_streams_to_a_cloud_model_all_run_at_once_by_default(tmp_path):
    """50 API clients streaming at once all reach the provider together: none waits in the gateway's line."""
    clients = 50
    async for running in start_gateway(tmp_path):
        running.cloud.default = held = Reply(hold_after=1)  # every answer stops after its first chunk until released
        client = running.client()

        async def one_stream() -> str:
            stream = await client.chat.completions.create(model=CLOUD_MODEL, messages=HELLO, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        streams = [asyncio.ensure_future(one_stream()) for _ in range(clients)]
        await until(lambda: len(running.cloud.generation_requests()) == clients, timeout_s=60)
        line = running.gateway.router.resilience.admission("openai")
        in_flight, waiting = line.running, line.waiting
        held.release.set()
        answers = await asyncio.gather(*streams)

    assert (in_flight, waiting) == (clients, 0)
    assert answers == ["Hello, world!"] * clients


async def test_an_auto_request_spills_past_a_busy_local_model_to_the_cloud_and_says_why(tmp_path):
    # No cloud share: complexity keeps every Auto message local, so only the load sends it to the cloud.
    async for running in start_gateway(tmp_path, LOCAL_MAX_WAIT_S=10, ROUTER_CLOUD_SHARE=0):
        held, busy = await hold_the_local_line(running, answer_s=25)
        completion = await running.client().chat.completions.create(model="auto", messages=HELLO)
        held.release.set()
        await busy

    assert completion.model == CLOUD_MODEL and len(running.cloud.generation_requests()) == 1
    assert "Llama 3.2 3B (Ollama) busy, about 25 s in line → GPT-4.1 mini" in completion.x_hybrid["reasons"]


async def test_a_private_request_behind_too_long_a_line_is_503_with_retry_after_and_never_reaches_the_cloud(tmp_path):
    personal = [{"role": "user", "content": "My e-mail is rina@example.com, say hello."}]
    async for running in start_gateway(tmp_path, LOCAL_MAX_WAIT_S=10, MAX_WAIT_S=30):
        held, busy = await hold_the_local_line(running, answer_s=50)
        with pytest.raises(openai.InternalServerError) as refused:
            await running.client().chat.completions.create(model="auto", messages=personal)
        with pytest.raises(openai.InternalServerError) as refused_stream:
            await running.client().chat.completions.create(model="auto", messages=personal, stream=True)
        held.release.set()
        await busy

    for caught in (refused, refused_stream):
        assert caught.value.status_code == 503 and caught.value.response.headers["Retry-After"] == "20"
        assert caught.value.body["code"] == "model_busy" and caught.value.body["type"] == "server_error"
        assert caught.value.body["message"] == ("Llama 3.2 3B (Ollama) is busy (about 50 s in line), "
                                                "so nothing was sent: try again in about 20 s.")
    assert running.cloud.generation_requests() == [], "nothing of a private request goes to the cloud"
    assert len(running.local.generation_requests()) == 2, "only the two that made the line busy"


async def test_a_private_request_waits_for_the_busy_local_model_rather_than_spill(tmp_path):
    personal = [{"role": "user", "content": "My e-mail is rina@example.com, say hello."}]
    async for running in start_gateway(tmp_path, LOCAL_MAX_WAIT_S=10):
        held, busy = await hold_the_local_line(running, answer_s=25)
        waiting = asyncio.ensure_future(running.client().chat.completions.create(model="auto", messages=personal))
        await until(lambda: running.gateway.router.resilience.admission("ollama").waiting == 1)
        held.release.set()
        completion, _ = await asyncio.gather(waiting, busy)

    assert completion.model == LOCAL_MODEL and completion.x_hybrid["private"] is True
    assert running.cloud.generation_requests() == []
