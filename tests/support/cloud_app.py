"""The real app with its GPT backend on the scripted fake of OpenAI's wire protocol, for tests that
script the cloud model and read what reached it; the local model is the real embedded one.

The fake runs in the test's event loop, so the app is started and stopped from a thread: the
fake must keep answering meanwhile. Or it runs on an event loop of its own (`fake_openai_in_a_thread`),
so synchronous fixtures can start apps from the test's main thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from tests.support.app_server import AppServer
from tests.support.fake_servers import FakeServer
from tests.support.secret import SECRET


@asynccontextmanager
async def fake_openai(model: str = "fake-gpt") -> AsyncIterator[FakeServer]:
    """The fake OpenAI server, serving `model`, in this event loop."""
    server = await FakeServer("openai", models=(model,)).start()
    try:
        yield server
    finally:
        await server.stop()


@contextmanager
def fake_openai_in_a_thread(model: str = "fake-gpt") -> Iterator[FakeServer]:
    """The fake OpenAI server, serving `model`, on an event loop in a background thread: it answers
    while the test's own thread blocks, and a test reads every request it received."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(FakeServer("openai", models=(model,)).start(), loop).result(30)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def cloud_env(cloud: FakeServer) -> dict[str, str]:
    """The app's environment for GPT on `cloud`, without Ollama, so the local model is the embedded one."""
    return {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": cloud.base_url, "OPENAI_MODEL": cloud.models[0],
            "OLLAMA_ENABLED": "false"}


@asynccontextmanager
async def app_on_fake_cloud(data_dir: Path, cloud: FakeServer, env: dict[str, str], *,
                            wait_for_local_model: bool = False) -> AsyncIterator[AppServer]:
    """The running app with GPT on `cloud`; `env` adds the test's own settings (users, budgets, limits)."""
    server = AppServer(data_dir, env=cloud_env(cloud) | env)
    await asyncio.to_thread(server.__enter__)
    try:
        if wait_for_local_model:
            await asyncio.to_thread(server.wait_for_local_model)
        yield server
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)



def cloud_app_fixtures(data_dir_name: str, env: dict[str, str], *, app_name: str = "app",
                       wait_for_local_model: bool = False):
    """A test module's module-scoped fixtures `cloud`, the fake, and `app_name`, the app on it.

    Assign both to module names so pytest finds them: `cloud, app = cloud_app_fixtures("fallback", {...})`.
    """

    @pytest.fixture(scope="module", name="cloud")
    async def cloud():
        async with fake_openai() as server:
            yield server

    @pytest.fixture(scope="module", name=app_name)
    async def app(cloud, tmp_path_factory):
        async with app_on_fake_cloud(tmp_path_factory.mktemp(data_dir_name), cloud, env,
                                     wait_for_local_model=wait_for_local_model) as server:
            yield server

    return cloud, app
