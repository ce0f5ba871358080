"""The Router facade: routing waits for models still loading at start-up, and sees how long each line is."""

import asyncio

from router import Backend, ChatMessage, Health, ModelCatalog, RouteRequest, Router, describe_route
from router.admission import Admission
from router.catalog import ModelSpec
from router.policy import RoutingPolicy
from router.resilience import Resilience
from router.types import Completed, TextDelta
from tests.support.clock import Clock
from tests.support.fake_backend import FakeBackend, Reply


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


# --- the policy sees each line's expected wait ------------------------------------------------------------------


def busy_router(*, max_wait_s: float = 600) -> tuple[Router, FakeBackend, FakeBackend, Clock]:
    """The embedded model (one answer at a time, on a clock the test moves) and Gemini; Auto messages go local."""
    local = FakeBackend("foundry-local", "local", models=("smollm2",))
    gemini = FakeBackend("gemini", models=("gemini-2.5-flash",), default=Reply(chunks=("from ", "Gemini")))
    clock = Clock()
    resilience = Resilience(admissions={"foundry-local": Admission(1, clock=clock)})
    policy = RoutingPolicy(None, local_max_wait_s=10, max_wait_s=max_wait_s)
    return Router(ModelCatalog.load(), {"foundry-local": local, "gemini": gemini},
                  resilience=resilience, policy=policy), local, gemini, clock


async def hold_the_local_model(router: Router, local: FakeBackend, clock: Clock, *, answer_s: float):
    """One answer that took `answer_s` (so the line has a service time), then another one held mid-answer.

    Returns the held reply and its stream (the caller keeps it: a stream dropped gives its slot back).
    """
    timed, held = Reply(hold_after=1), Reply(hold_after=1)
    local.script = [timed, held]
    for step in (timed, held):
        decision = await router.route(RouteRequest((ChatMessage("user", "hello"),)))
        assert decision.model.provider == "foundry-local"
        stream = router.stream(decision, [ChatMessage("user", "hello")])
        assert isinstance(await anext(stream), TextDelta)  # running, holding the only slot
        if step is timed:
            clock.now += answer_s
            step.release.set()
            assert [e async for e in stream if isinstance(e, Completed)]
    return held, stream


async def in_line(router: Router, provider: str) -> None:
    while router.resilience.admission(provider).waiting == 0:
        await asyncio.sleep(0.01)


async def answer(router: Router, decision) -> str:
    return "".join([e.text async for e in router.stream(decision, [ChatMessage("user", "q")])
                    if isinstance(e, TextDelta)])


async def test_an_auto_message_spills_to_the_cloud_past_a_busy_local_model_and_says_so():
    router, local, gemini, clock = busy_router()
    held, _running = await hold_the_local_model(router, local, clock, answer_s=25)

    decision = await router.route(RouteRequest((ChatMessage("user", "What is 2 + 2?"),)))

    assert [s.id for s in decision.candidates] == ["gemini-2.5-flash", "smollm2-135m"]
    assert "Why: SmolLM2 135M (Foundry Local) busy, about 25 s in line → Gemini 2.5 Flash" in describe_route(decision)
    assert await answer(router, decision) == "from Gemini" and len(gemini.requests) == 1
    held.release.set()


async def test_a_private_message_waits_for_the_busy_local_model_and_a_pinned_profile_too():
    router, local, gemini, clock = busy_router()
    held, running = await hold_the_local_model(router, local, clock, answer_s=25)

    marked = "this chat is marked private"
    private = await router.route(RouteRequest((ChatMessage("user", "q"),), private_reason=marked))
    pinned = await router.route(RouteRequest((ChatMessage("user", "q"),), profile="smollm2-135m"))

    assert [s.id for s in private.candidates] == ["smollm2-135m"] and private.spilled_from is None
    assert pinned.model.id == "smollm2-135m" and pinned.spilled_from is None
    waiting = asyncio.ensure_future(answer(router, private))
    await asyncio.wait_for(in_line(router, "foundry-local"), 30)
    held.release.set()
    assert [e async for e in running if isinstance(e, Completed)]  # the slot goes to the one in line
    assert await waiting == "Hello, world!" and gemini.requests == []


async def test_beyond_the_hard_limit_a_private_message_is_told_to_try_again():
    router, local, gemini, clock = busy_router(max_wait_s=20)
    held, _running = await hold_the_local_model(router, local, clock, answer_s=50)

    decision = await router.route(RouteRequest((ChatMessage("user", "my e-mail is rina@example.com"),)))

    assert decision.candidates == () and decision.retry_after_s == 30
    assert decision.reasons[-1].endswith("is busy (about 50 s in line), so nothing was sent: try again in about 30 s")
    held.release.set()
