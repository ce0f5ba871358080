"""A chat answer against Chainlit's emitter, without a browser: when the model is asked, what is shown first.

A real `Router` and `Pipeline` over a scripted in-process backend (what it received is what a
provider would have been sent); Chainlit's HTTP context with a recording emitter.
"""

from __future__ import annotations

import asyncio

import chainlit.data
import pytest
from chainlit.context import context, init_http_context

import chat.services
from answering import Asker, Pipeline, Question
from chat.answers import _stream_answer
from chat.services import Services
from operations import Limits
from persistence import SharedState
from router import ChatMessage, ModelCatalog, ModelSpec, Router
from settings import get_settings
from tests.support.clock import Clock
from tests.support.fake_backend import FakeBackend

CLOUD = ModelSpec("big", "Big Cloud", "cloud-fake", "big-1", "cloud", context_length=16_384)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend("cloud-fake", "cloud", models=("big-1",))


@pytest.fixture
async def pipeline(backend, engine, monkeypatch) -> Pipeline:
    """Installed as the chat's services, in a Chainlit context that stores nothing (no data layer)."""
    router = Router(ModelCatalog([CLOUD]), {"cloud-fake": backend}, max_tokens=64)
    pipeline = Pipeline(router, Limits(SharedState(engine), clock=Clock()), engine=engine)
    monkeypatch.setattr(chat.services, "_installed", Services(get_settings(), router, None, None, pipeline))
    monkeypatch.setattr(chainlit.data, "_data_layer", None)
    monkeypatch.setattr(chainlit.data, "_data_layer_initialized", True)
    init_http_context(thread_id="thread-1")
    return pipeline


async def test_the_model_is_asked_before_the_route_step_is_shown(pipeline, backend, monkeypatch):
    """The route step's socket message waits for nothing on the way to the model (its prefill hides it),
    and is still shown before any of the reply."""
    shown: list[str] = []

    async def send_step(step: dict) -> None:
        if step["name"] == "Route":
            # Before the change the request went out only after this returned: this waited in vain.
            await asyncio.wait_for(_until(lambda: backend.requests), timeout=10)
        shown.append(step["name"])

    async def stream_start(step: dict) -> None:
        shown.append("reply streams")

    monkeypatch.setattr(context.emitter, "send_step", send_step)
    monkeypatch.setattr(context.emitter, "stream_start", stream_start)
    prepared = await pipeline.prepare(Asker("alice"), Question((ChatMessage("user", "Name a colour."),), profile="big"))

    await _stream_answer(prepared, None, comparable=False)

    assert len(backend.requests) == 1
    assert shown[:2] == ["Route", "reply streams"]


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)
