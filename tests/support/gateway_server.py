"""The gateway under test: a real gateway on a real HTTP server, in front of a real router.

The router's providers are the scripted wire-protocol servers of `fake_servers`: Ollama (a
local model) and OpenAI (a cloud model), so every test sees which provider really received
a prompt. The embedded model is switched off here (tests/gateway/test_app.py uses it through
the real app). The HTTP app mimics Chainlit's: a catch-all route is registered before the gateway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import openai
import uvicorn
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from gateway import Gateway, mount_gateway
from router import Admission, Router
from settings import Settings
from tests.support.clock import Clock
from tests.support.fake_servers import FakeServer, Reply
from tests.support.ports import free_port

SERVICE_KEY = "svc-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"
#: A service whose identifier is an e-mail: log lines must not show it.
EMAIL_USER_KEY = "mail-key-0123456789abcdef"
EMAIL_USER = "carol.jones@example.com"
LOCAL_MODEL, CLOUD_MODEL = "ollama", "gpt-4.1-mini"
HELLO = [{"role": "user", "content": "Say hello."}]


class RunningGateway:
    """The gateway's HTTP server, its providers and a way to get clients for it."""

    def __init__(self, url: str, gateway: Gateway, local: FakeServer, cloud: FakeServer) -> None:
        self.url = url
        self.gateway = gateway
        self.local = local
        self.cloud = cloud

    def client(self, key: str = SERVICE_KEY, **options) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=key, base_url=self.url + "/v1", max_retries=0, **options)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30)


async def serve(app: FastAPI):
    """Run `app` with uvicorn on a free port in this event loop until the generator is closed."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def gateway_settings(data_dir: Path, local: FakeServer, cloud: FakeServer, **extra) -> Settings:
    values = {
        "DATA_DIR": str(data_dir), "FOUNDRY_ENABLED": False,
        "OLLAMA_BASE_URL": local.base_url, "OLLAMA_MODEL": "llama-test:1b",
        "OPENAI_API_KEY": "sk-test-not-a-real-key-000000", "OPENAI_BASE_URL": cloud.base_url,
        "OPENAI_MODEL": "gpt-test",
        "GATEWAY_API_KEYS": f"{SERVICE_KEY}:svc-tests,{ADMIN_KEY}:root,{EMAIL_USER_KEY}:{EMAIL_USER}",
        "ADMIN_USERS": "root", "RATE_LIMIT_PER_MINUTE": 1000, "MAX_RETRIES": 0,
    }
    return Settings(**(values | extra))


async def start_gateway(data_dir: Path, **extra):
    """A running gateway with fresh providers and database; extra settings override the defaults."""
    local = await FakeServer("ollama", models=("llama-test:1b",)).start()
    cloud = await FakeServer("openai", models=("gpt-test",)).start()
    settings = gateway_settings(data_dir, local, cloud, **extra)
    router = Router.from_settings(settings)
    app = FastAPI()

    @app.get("/{full_path:path}")
    async def catch_all(full_path: str):  # like Chainlit's: answers every path it is asked first
        return PlainTextResponse("chainlit frontend")

    gateway = mount_gateway(app, router, settings)
    try:
        async for url in serve(app):
            yield RunningGateway(url, gateway, local, cloud)
    finally:
        await gateway.aclose()
        await router.aclose()
        await local.stop()
        await cloud.stop()


async def hold_the_local_line(running: RunningGateway, *, answer_s: float) -> tuple[Reply, asyncio.Future]:
    """Ollama takes one request at a time, its last answer took `answer_s` (on a clock the test moves)
    and it is busy with another: a message joining its line now expects to wait `answer_s`.

    Returns the held reply (set its `release` to let the busy request finish) and that request.
    """
    clock = Clock()
    line = running.gateway.router.resilience.admissions["ollama"] = Admission(1, clock=clock)
    timed, held = Reply(hold_after=1), Reply(hold_after=1)
    running.local.script = [timed, held]
    client = running.client()
    first = asyncio.ensure_future(client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO))
    await until(lambda: len(running.local.generation_requests()) == 1)
    clock.now += answer_s
    timed.release.set()
    await first
    busy = asyncio.ensure_future(client.chat.completions.create(model=LOCAL_MODEL, messages=HELLO))
    await until(lambda: len(running.local.generation_requests()) == 2 and line.running == 1)
    return held, busy


async def until(condition, timeout_s: float = 30) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout_s)
