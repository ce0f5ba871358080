"""The Router facade: routing waits for models still loading at start-up."""

import asyncio

from router import Backend, ChatMessage, Health, ModelCatalog, RouteRequest, Router
from router.catalog import ModelSpec


class SlowStartingBackend(Backend):
    name = "slow"
    kind = "local"

    def __init__(self) -> None:
        self.loaded = False
        self.release = asyncio.Event()

    async def start(self) -> None:
        await self.release.wait()
        self.loaded = True

    async def health(self) -> Health:
        return Health(self.loaded, "" if self.loaded else "still loading")

    async def models(self) -> list[str]:
        return ["m"] if self.loaded else []

    async def stream(self, messages, params):  # pragma: no cover - not called here
        raise NotImplementedError
        yield


async def test_a_message_during_start_up_waits_for_the_model():
    backend = SlowStartingBackend()
    catalog = ModelCatalog([ModelSpec("m", "M", "slow", "m", "local", 2048)])
    router = Router(catalog, {"slow": backend})
    start = asyncio.create_task(router.start())
    await asyncio.sleep(0)
    request = RouteRequest(messages=(ChatMessage("user", "hello"),))
    decision = asyncio.create_task(router.route(request))
    await asyncio.sleep(0.2)
    assert not decision.done()  # still waiting for the model, not answering "nothing available"
    backend.release.set()
    assert (await decision).model.id == "m"
    await start


class RemoteBackend(Backend):
    """Implements only what the contract requires: nothing to load at start-up."""

    name = "remote"
    kind = "cloud"

    async def health(self) -> Health:
        return Health(True)

    async def models(self) -> list[str]:
        return ["r"]

    async def stream(self, messages, params):  # pragma: no cover - not called here
        raise NotImplementedError
        yield


async def test_start_is_part_of_the_backend_contract_and_starts_every_backend():
    slow, remote = SlowStartingBackend(), RemoteBackend()
    await remote.start()  # the contract's default: nothing to load
    slow.release.set()
    await Router(ModelCatalog([]), {"slow": slow, "remote": remote}).start()
    assert slow.loaded


async def test_health_answers_for_every_provider_the_catalog_names_even_without_a_backend():
    catalog = ModelCatalog([
        ModelSpec("m", "M", "slow", "m", "local", 2048), ModelSpec("g", "G", "gone", "g", "cloud", 2048),
    ])
    health = await Router(catalog, {"slow": RemoteBackend()}).health()
    assert health == {"slow": Health(True), "gone": Health(False, reason="this provider is not enabled")}
