"""/healthz, /readyz and /metrics: what an orchestrator and Prometheus see."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.ops import vector_store_check
from settings import Settings
from tests.support.gateway_server import LOCAL_MODEL, hold_the_local_line, start_gateway
from tests.support.ports import free_port

HELLO = [{"role": "user", "content": "Say hello."}]


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text) for sample in family.samples
    }


async def test_healthz_answers_ahead_of_the_catch_all_route(running):
    async with running.http() as http:
        response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_ready_with_each_check_and_every_backends_state(running):
    async with running.http() as http:
        response = await http.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["backends"]["ollama"] == {"available": True, "reason": ""}
    assert body["backends"]["gemini"]["available"] is False and body["backends"]["gemini"]["reason"]


async def test_metrics_count_messages_routes_latency_tokens_and_backend_states(running):
    async with running.http() as http:
        before = _samples((await http.get("/metrics")).text)
        await running.client().chat.completions.create(model=LOCAL_MODEL, messages=HELLO)
        response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)

    def grew(name: str, by: float = 1, **labels) -> bool:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0) == by

    assert grew("hybrid_chat_messages_total", source="gateway")
    assert grew("hybrid_chat_routes_total", backend="ollama", route="local", reason="profile")
    assert grew("hybrid_chat_time_to_first_token_seconds_count", backend="ollama")
    assert grew("hybrid_chat_answer_seconds_count", backend="ollama")
    assert grew("hybrid_chat_tokens_total", 11, backend="ollama", kind="prompt")
    assert grew("hybrid_chat_tokens_total", 4, backend="ollama", kind="completion")
    assert after[("hybrid_chat_backend_up", (("backend", "ollama"),))] == 1
    assert after[("hybrid_chat_backend_up", (("backend", "gemini"),))] == 0


async def test_metrics_show_each_line_spills_and_busy_refusals(tmp_path):
    personal = [{"role": "user", "content": "My e-mail is rina@example.com, say hello."}]
    # No cloud share: complexity keeps every Auto message local, so only the load sends one to the cloud.
    async for running in start_gateway(tmp_path, LOCAL_MAX_WAIT_S=10, MAX_WAIT_S=30, ROUTER_CLOUD_SHARE=0):
        async with running.http() as http:
            before = _samples((await http.get("/metrics")).text)
            held, busy = await hold_the_local_line(running, answer_s=50)
            await running.client().chat.completions.create(model="auto", messages=HELLO)
            with pytest.raises(openai.InternalServerError):
                await running.client().chat.completions.create(model="auto", messages=personal)
            after = _samples((await http.get("/metrics")).text)
            held.release.set()
            await busy

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("hybrid_chat_spills_total", from_backend="ollama", to_backend="openai") == 1
    assert grew("hybrid_chat_routes_total", backend="openai", route="cloud", reason="load") == 1
    assert grew("hybrid_chat_busy_refusals_total", source="gateway") == 1
    assert grew("hybrid_chat_errors_total", source="gateway", kind="busy") == 1
    assert after[("hybrid_chat_queue_expected_wait_seconds", (("backend", "ollama"),))] == 50
    assert after[("hybrid_chat_queue_length", (("backend", "ollama"),))] == 0, "the busy one runs, nobody waits"
    assert grew("hybrid_chat_queue_wait_seconds_count", backend="ollama") >= 1


@pytest.fixture(scope="module")
async def nothing_available(tmp_path_factory):
    """A gateway with no usable backend and a database nobody listens on."""
    async for running in start_gateway(
        tmp_path_factory.mktemp("down"), OLLAMA_ENABLED=False, OPENAI_API_KEY="",
        DATABASE_URL="postgresql://nobody:secret-pw@127.0.0.1:9/none",
    ):
        yield running


async def test_readyz_is_503_and_names_what_is_missing(nothing_available):
    async with nothing_available.http() as http:
        response = await http.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False and body["checks"]["backend"]["ok"] is False
    assert body["checks"]["vector_store"]["ok"] is True
    assert "secret-pw" not in response.text
    async with nothing_available.http() as http:
        assert (await http.get("/healthz")).status_code == 200, "alive even when not ready"


async def test_no_usable_model_is_503_with_the_routers_reasons(tmp_path):
    async for running in start_gateway(tmp_path, OLLAMA_ENABLED=False, OPENAI_API_KEY=""):
        with pytest.raises(openai.APIStatusError) as caught:
            await running.client().chat.completions.create(model="auto", messages=HELLO)
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "no_backend_available" and "nothing was sent" in caught.value.body["message"]


async def test_the_vector_store_check_uses_a_chroma_servers_heartbeat(chroma_server, tmp_path):
    host, port = chroma_server
    check = vector_store_check(Settings(DATA_DIR=tmp_path, CHROMA_HOST=host, CHROMA_PORT=port))
    deadline = time.monotonic() + 90
    while True:  # the server takes a few seconds to start
        try:
            await check()
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "chroma did not answer its heartbeat"
            await asyncio.sleep(0.5)
    down = vector_store_check(Settings(DATA_DIR=tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=free_port()))
    with pytest.raises(httpx.HTTPError):
        await down()


async def test_the_embedded_vector_store_check_needs_a_writable_folder(tmp_path):
    await vector_store_check(Settings(DATA_DIR=tmp_path / "new"))()  # created on first use: fine
    (tmp_path / "a-file").write_text("in the way")
    with pytest.raises(OSError, match="not a writable folder"):
        await vector_store_check(Settings(DATA_DIR=tmp_path / "a-file" / "data"))()
