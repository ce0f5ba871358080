"""The gateway inside the real app (`chainlit run app.py`), answered by the real embedded model."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.support.app_server import AppServer

KEY = "app-test-key-0123456789abcdef"
EMBEDDED = "smollm2-135m"
SHORT = [{"role": "user", "content": "Name one colour."}]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    env = {"GATEWAY_API_KEYS": f"{KEY}:svc-app-test", "CHAT_USERS": "alice:alice-pw-1", "OLLAMA_ENABLED": "false",
           "JSON_LOGS": "true"}
    with AppServer(tmp_path_factory.mktemp("gateway-app"), env=env) as server:
        _wait_until_ready(server)
        yield server


def _wait_until_ready(server: AppServer, timeout_s: float = 180) -> None:
    """The embedded model loads after start-up; /readyz says when it can answer."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(server.url + "/readyz", timeout=10)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:  # a busy machine may be slow to answer while the model loads
            last = repr(exc)
        time.sleep(1)
    raise AssertionError(f"not ready after {timeout_s:.0f} s: {last}\n{server.log()}")


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
    assert {entry["logger"] for entry in mine} == {"hybrid_chat.gateway"} and len(mine) >= 3, mine


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
