"""Fixtures of the router tests: scripted provider servers, the real in-process model, fast limits."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from router.resilience import Resilience, RetryPolicy, Timeouts
from tests.support.fake_servers import FakeServer
from tests.support.secret import SECRET


@pytest.fixture
def secret() -> SecretStr:
    return SecretStr(SECRET)


async def _served(protocol: str, models: tuple[str, ...]):
    server = await FakeServer(protocol, models=models).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def openai_server():
    async for server in _served("openai", ("gpt-test",)):
        yield server


@pytest.fixture
async def ollama_server():
    async for server in _served("ollama", ("llama-test:1b",)):
        yield server


@pytest.fixture
async def gemini_server():
    async for server in _served("gemini", ("gemini-test",)):
        yield server


@pytest.fixture
def fast_resilience() -> Resilience:
    """Short waits so failure paths run fast (stall tests shorten the first-token limit further)."""
    return Resilience(
        timeouts=Timeouts(first_token_s=5.0, total_s=30.0),
        retry=RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05, max_wait_s=5.0),
        failure_threshold=3,
        cooldown_s=60.0,
    )


@pytest.fixture(scope="session")
async def foundry_backend(tmp_path_factory):
    """The real embedded model in Foundry Local (one SDK manager per process, so one per session)."""
    from router.backends.foundry_local import FoundryLocalBackend
    from router.embedded_model import prepare_embedded_model
    from settings import get_settings

    model_dir = prepare_embedded_model(get_settings().models_dir)
    # One worker, so a second request can only start once the first really stopped.
    backend = FoundryLocalBackend(model=str(model_dir), app_data_dir=tmp_path_factory.mktemp("foundry"), max_parallel=1)
    await backend.start()
    health = await backend.health()
    assert health.available, health.reason
    yield backend
    await backend.aclose()
