"""The gateway inside the real app (`python -m scripts.serve`, as `make run` starts it), answered by the real embedded model.

The cloud model is GPT through the real `openai` client, served by the local fake of OpenAI's
wire protocol; it runs on its own event loop in this process, so a test reads every request
it received.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.support.app_server import AppServer
from tests.support.cloud_app import cloud_env, fake_openai_in_a_thread

KEY = "app-test-key-0123456789abcdef"
EMBEDDED = "smollm2-135m"
CLOUD = "gpt-4.1-mini"
SHORT = [{"role": "user", "content": "Name one colour."}]


@pytest.fixture(scope="module")
def cloud():
    """The fake OpenAI server on a background event loop, for the app's GPT backend."""
    with fake_openai_in_a_thread("gpt-test") as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory, cloud):
    env = {"GATEWAY_API_KEYS": f"{KEY}:svc-app-test", "CHAT_USERS": "alice:alice-pw-1", "JSON_LOGS": "true",
           # A prompt filling the model's context takes ~45 s to read on two saturated cores.
           "FIRST_TOKEN_TIMEOUT_S": "300"}
    with AppServer(tmp_path_factory.mktemp("gateway-app"), env=cloud_env(cloud) | env) as server:
        server.wait_for_local_model()
        yield server


@pytest.fixture
def client(app) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=app.url + "/v1", max_retries=0, timeout=120)


def test_the_app_serves_the_ops_endpoints_ahead_of_chainlit(app):
    assert httpx.get(app.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(app.url + "/readyz").json()
    assert ready["backends"]["foundry-local"]["available"] is True
    assert "hybrid_chat_backend_up" in httpx.get(app.url + "/metrics").text


def test_the_embedded_model_answers_through_the_openai_sdk(client):
    assert EMBEDDED in {model.id for model in client.models.list().data}
    completion = client.chat.completions.create(model=EMBEDDED, messages=SHORT, max_tokens=8)
    assert completion.model == EMBEDDED and completion.choices[0].message.content.strip()
    assert 0 < completion.usage.completion_tokens <= 8


def test_the_apps_log_lines_are_json_with_the_requests_id(app, client):
    client.with_options(default_headers={"X-Request-ID": "app-req-77"}).chat.completions.create(
        model=EMBEDDED, messages=SHORT, max_tokens=4,
    )
    entries = [json.loads(line) for line in app.log().splitlines() if line.startswith("{")]
    mine = [entry for entry in entries if entry["request_id"] == "app-req-77"]
    # The API's lines and the answering pipeline's, all carrying the request's id.
    assert {entry["logger"] for entry in mine} == {"hybrid_chat.gateway", "hybrid_chat.answering"}, mine
    assert len(mine) >= 3, mine


def test_auto_streams_from_the_embedded_model_with_usage(client):
    stream = client.chat.completions.create(
        model="auto", messages=SHORT, max_tokens=8, stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()
    assert chunks[-1].usage.completion_tokens > 0


def test_a_wrong_key_is_refused_by_the_app(app):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="wrong", base_url=app.url + "/v1", max_retries=0).models.list()


def test_a_signed_in_user_creates_uses_lists_and_revokes_a_key(app):
    with httpx.Client(base_url=app.url, timeout=30) as http:
        assert http.get("/gateway/keys").status_code == 401, "only signed-in users manage keys"
        assert http.post("/login", data={"username": "alice", "password": "alice-pw-1"}).status_code == 200
        assert http.post("/gateway/keys", data={"name": "form"}).status_code == 415, "no cross-site form posts"
        created = http.post("/gateway/keys", json={"name": "laptop"})
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        key = created.json()["key"]

        user_client = openai.OpenAI(api_key=key, base_url=app.url + "/v1", max_retries=0, timeout=120)
        assert EMBEDDED in {model.id for model in user_client.models.list().data}
        listed = http.get("/gateway/keys").json()["data"]
        assert [(k["name"], k["active"]) for k in listed] == [("laptop", True)] and key not in str(listed)

        assert http.delete(f"/gateway/keys/{created.json()['id']}").status_code == 204
        assert http.delete(f"/gateway/keys/{created.json()['id']}").status_code == 404
        with pytest.raises(openai.AuthenticationError):
            user_client.models.list()


def test_an_ordinary_request_pinned_to_gpt_reaches_the_cloud(client, cloud):
    """The wiring the privacy tests rely on: without personal data, the pinned cloud model answers."""
    before = len(cloud.generation_requests())
    completion = client.chat.completions.create(
        model=CLOUD, messages=[{"role": "system", "content": "Be brief."}, *SHORT], max_tokens=8,
    )
    assert completion.model == CLOUD and completion.choices[0].message.content == "Hello, world!"
    assert len(cloud.generation_requests()) == before + 1


@pytest.mark.parametrize("role", ["system", "developer"])
def test_personal_data_in_a_system_or_developer_message_never_reaches_the_cloud(client, cloud, role):
    before = len(cloud.requests)
    messages = [
        {"role": role, "content": "The user is Jane Doe, e-mail jane.doe@example.com, phone +62 812 3456 7890."},
        {"role": "user", "content": "Write a one-line greeting."},
    ]
    raw = client.chat.completions.with_raw_response.create(model=CLOUD, messages=messages, max_tokens=8)
    completion = raw.parse()
    received = json.dumps([seen.body for seen in cloud.requests[before:]])
    assert "jane.doe@example.com" not in received and "3456" not in received
    assert completion.model == EMBEDDED and completion.choices[0].message.content.strip()
    assert raw.headers["x-hybrid-private"] == "true"
    assert any("local only" in reason for reason in completion.x_hybrid["reasons"])


BAD_REQUESTS = {
    "null user content": [{"role": "user", "content": None}],
    "null system content": [{"role": "system", "content": None}, *SHORT],
    "null assistant content": [*SHORT, {"role": "assistant", "content": None}, *SHORT],
    "nothing but empty text": [{"role": "user", "content": ""}],
    "more tokens than the estimate": [{"role": "user", "content": "😀" * 3500}],  # 10,500 tokens, 7,008 estimated
    "system and last message alone too long": [{"role": "system", "content": "s " * 9500},
                                               {"role": "user", "content": "u " * 9500}],
}


@pytest.mark.parametrize("messages", BAD_REQUESTS.values(), ids=BAD_REQUESTS)
def test_bad_requests_are_400_without_internal_text_and_never_pause_the_local_model(client, messages):
    for _ in range(4):  # more than the breaker's threshold
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model=EMBEDDED, messages=messages, max_tokens=8)
        error = caught.value.body
        assert error["type"] == "invalid_request_error"
        assert ".cc" not in error["message"] and "fl::" not in error["message"], error
    answered = client.chat.completions.create(model=EMBEDDED, messages=SHORT, max_tokens=8)
    assert answered.model == EMBEDDED and answered.choices[0].message.content.strip()


def test_the_runtimes_own_error_text_stays_in_the_log(app, client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=EMBEDDED, messages=BAD_REQUESTS["more tokens than the estimate"],
                                       max_tokens=8)
    assert "too long" in caught.value.body["message"]
    assert "exceeds the model's maximum context length" in app.log()


def test_a_ten_thousand_message_history_is_trimmed_to_fit_and_answered_by_the_local_model(client):
    history = [{"role": ("user", "assistant")[i % 2], "content": f"Turn {i}: tell me about colour number {i}."}
               for i in range(10_000)]
    completion = client.with_options(timeout=300).chat.completions.create(
        model=EMBEDDED, messages=[*history, *SHORT], max_tokens=8,
    )
    assert completion.model == EMBEDDED and completion.choices[0].message.content.strip()
    assert 1000 < completion.usage.prompt_tokens < 8192, "the newest turns that fit were sent"


def _post(app, body: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    return httpx.post(app.url + "/v1/chat/completions", content=body.encode(), headers=headers, timeout=120)


def test_a_deeply_nested_body_is_400_not_a_server_error(app):
    nested = "[" * 100_000 + "]" * 100_000
    response = _post(app, f'{{"model": "{EMBEDDED}", "messages": {nested}}}')
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {"message": "The request body is nested too deeply.",
                                        "type": "invalid_request_error", "param": None, "code": None}


def test_a_lone_surrogate_is_400_naming_the_message_and_no_model_is_asked(app, cloud):
    before = len(cloud.generation_requests())
    body = json.dumps({"model": CLOUD, "messages": [*SHORT, {"role": "user", "content": "half an emoji: \ud83d"}]})
    response = _post(app, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "messages.1.content" and "not valid Unicode" in error["message"]
    assert len(cloud.generation_requests()) == before


@pytest.mark.parametrize(("extra", "param"), [
    ({"top_p": 5}, "top_p"),
    ({"top_p": -0.1}, "top_p"),
    ({"stream": "yes"}, "stream"),
    ({"stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
])
def test_out_of_range_or_mistyped_parameters_are_400_naming_them(app, extra, param):
    response = _post(app, json.dumps({"model": EMBEDDED, "messages": SHORT, "max_tokens": 4} | extra))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
