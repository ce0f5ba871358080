"""The answering pipeline without HTTP or a browser.

A real `Router` over two scripted in-process backends (one local model with a small context,
one cloud model with a large one), real `Limits`, usage in a real SQLite database and a real
knowledge base (embedded Chroma, the real embedding model). What each backend received is
what a provider would have been sent.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from answering import Asker, ContextTooLong, Pipeline, Question
from knowledge import KnowledgeBase
from operations import LimitExceeded, Limits
from persistence import SharedState, UsageRecord, UsageSummary, record_usage, usage_summary
from router import (
    GENERAL_MODE, ChatMessage, Completed, ModelCatalog, ModelSpec, Notice, Queued, Router, TextDelta, build_messages,
    fits,
)
from settings import Settings, get_settings
from tests.support.clock import Clock
from tests.support.fake_backend import FakeBackend, Reply

LOCAL = ModelSpec("small", "Small Local", "local-fake", "small-1", "local", context_length=1024)
CLOUD = ModelSpec("big", "Big Cloud", "cloud-fake", "big-1", "cloud", context_length=16_384,
                  input_price=1.0, output_price=2.0)
CATALOG = ModelCatalog([LOCAL, CLOUD])
MAX_OUTPUT = 128
ALICE = Asker("alice")
EMAIL = "jane.doe@example.com"
#: The app's system prompt in the general mode, as the chat sends it.
APP_PROMPT = build_messages((), "", mode=GENERAL_MODE, context_length=CLOUD.context_length,
                            max_output_tokens=MAX_OUTPUT)[0].content


@pytest.fixture
def local() -> FakeBackend:
    return FakeBackend("local-fake", "local", models=("small-1",))


@pytest.fixture
def cloud() -> FakeBackend:
    return FakeBackend("cloud-fake", "cloud", models=("big-1",))


@pytest.fixture
def pipeline(local, cloud, engine) -> Pipeline:
    """No project knowledge (tests that need it set `pipeline.knowledge`); limits as configured by default."""
    router = Router(CATALOG, {"local-fake": local, "cloud-fake": cloud}, max_tokens=MAX_OUTPUT)
    return Pipeline(router, Limits(SharedState(engine), clock=Clock()), engine=engine)


@pytest.fixture(scope="module")
async def knowledge(tmp_path_factory):
    """A real knowledge base: project "bees" holds a note on bees, project "contacts" one with an e-mail."""
    settings = Settings(DATA_DIR=tmp_path_factory.mktemp("knowledge"))
    # The embedding model the app already prepared (as tests.support.app_server does), so no export runs.
    models = get_settings().models_dir
    models.mkdir(parents=True, exist_ok=True)
    settings.models_dir.symlink_to(models, target_is_directory=True)
    kb = KnowledgeBase(settings)
    await kb.save_artifact("bees", "alice", "Bee dances",
                           "Honey bees do a waggle dance to tell each other where the flowers are.")
    await kb.save_artifact("contacts", "alice", "Beekeeper",
                           f"Report a bee swarm to the beekeeper by writing to {EMAIL}.")
    yield kb
    kb.close()


def chat(*texts: str) -> tuple[ChatMessage, ...]:
    """Alternating user and assistant turns, the last one the user's new message."""
    return tuple(ChatMessage("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(texts))


def long_history(turns: int = 60) -> tuple[ChatMessage, ...]:
    """Some 3,500 tokens in all: far more than the local model's context, well within the cloud model's."""
    return chat(*(f"Turn {i}: " + "tell me more about the history of beekeeping " * 3 for i in range(turns)))


async def answer_all(pipeline: Pipeline, prepared, step_id: str = "step") -> list:
    async with pipeline.answer(prepared, step_id=step_id) as answer:
        return [event async for event in answer]


def answers_counted(source: str = "chat") -> float:
    return REGISTRY.get_sample_value("hybrid_chat_messages_total", {"source": source}) or 0.0


async def usage_of(pipeline: Pipeline, user: str = "alice") -> list[UsageSummary]:
    return await usage_summary(pipeline.engine, user)


# --- admission -------------------------------------------------------------------------------------

async def test_a_message_over_the_size_limit_is_refused_before_anything_is_sent(pipeline, local, cloud):
    pipeline.limits.max_message_chars = 100
    with pytest.raises(LimitExceeded) as caught:
        await pipeline.prepare(ALICE, Question(chat("x" * 101)))
    assert (caught.value.limit, caught.value.status) == ("message_size", 413)
    assert local.requests == [] and cloud.requests == []
    assert await usage_of(pipeline) == []


async def test_the_rate_limit_refuses_the_message_over_the_limit_before_anything_is_sent(pipeline, local, cloud):
    pipeline.limits.rate_per_minute = 2
    for i in range(2):
        await answer_all(pipeline, await pipeline.prepare(ALICE, Question(chat(f"hello {i}"))), step_id=f"s{i}")
    with pytest.raises(LimitExceeded) as caught:
        await pipeline.prepare(ALICE, Question(chat("hello again")))
    assert (caught.value.limit, caught.value.status) == ("rate", 429)
    assert len(local.requests) == 2 and cloud.requests == []
    pipeline.limits.clock.now += 60
    await pipeline.prepare(ALICE, Question(chat("hello again")))  # a minute later


async def test_assistant_turns_do_not_count_against_the_size_limit(pipeline):
    pipeline.limits.max_message_chars = 100
    await pipeline.prepare(ALICE, Question(chat("Tell me a long story.", "Once upon a time " * 30, "Go on.")))
    # The user's own earlier turns do count: an API client sends them all with every request.
    with pytest.raises(LimitExceeded):
        await pipeline.prepare(ALICE, Question(chat("y" * 101, "Noted.", "Go on.")))


# --- budget ---------------------------------------------------------------------------------------

async def spend_budget(pipeline: Pipeline) -> None:
    """alice spent 120 tokens today against a daily budget of 100."""
    pipeline.limits.daily_tokens = 100
    await record_usage(pipeline.engine, UsageRecord("earlier", "alice", "cloud-fake", "big-1", 80, 40, 0.01))


async def test_a_spent_budget_answers_a_question_pinned_to_the_cloud_locally_and_says_why(pipeline, local, cloud):
    await spend_budget(pipeline)
    prepared = await pipeline.prepare(ALICE, Question(chat("Explain quantum tunnelling."), profile=CLOUD.id))
    assert prepared.decision.model == LOCAL
    assert any("daily budget of 100 tokens is used up" in reason for reason in prepared.decision.reasons)
    await answer_all(pipeline, prepared)
    assert len(local.requests) == 1 and cloud.requests == []


async def test_admins_are_exempt_from_the_budget(pipeline, local, cloud):
    await spend_budget(pipeline)
    prepared = await pipeline.prepare(Asker("alice", admin=True), Question(chat("Explain it."), profile=CLOUD.id))
    assert prepared.decision.model == CLOUD
    await answer_all(pipeline, prepared)
    assert len(cloud.requests) == 1 and local.requests == []


async def test_with_the_budget_spent_and_no_local_backend_nothing_is_sent(pipeline, cloud):
    pipeline.router = Router(CATALOG, {"cloud-fake": cloud}, max_tokens=MAX_OUTPUT)
    await spend_budget(pipeline)
    prepared = await pipeline.prepare(ALICE, Question(chat("Explain it."), profile=CLOUD.id))
    assert prepared.decision.model is None
    assert any("used up" in reason for reason in prepared.decision.reasons)
    assert "nothing was sent" in prepared.decision.reasons[-1]
    with pytest.raises(ValueError):
        pipeline.answer(prepared)
    assert cloud.requests == []
    assert [row.messages for row in await usage_of(pipeline)] == [1]  # the earlier spending only


# --- what the chosen model is sent ------------------------------------------------------------------

async def test_a_long_chat_is_trimmed_for_the_model_that_answers_not_for_the_smallest(pipeline, local, cloud):
    history = long_history()
    conversation = (*history, ChatMessage("user", "And today?"))

    await answer_all(pipeline, await pipeline.prepare(ALICE, Question(conversation)))  # auto: local first
    sent = local.requests[0].messages
    assert fits(sent, context_length=LOCAL.context_length, max_output_tokens=MAX_OUTPUT)
    assert sent[0] == ChatMessage("system", APP_PROMPT)
    assert 2 < len(sent) < len(conversation), "older turns dropped, some kept"
    assert sent[1:] == conversation[len(conversation) - len(sent) + 1:], "the newest turns, the new message last"
    assert local.requests[0].params.max_tokens == MAX_OUTPUT

    await answer_all(pipeline, await pipeline.prepare(ALICE, Question(conversation, profile=CLOUD.id)))
    assert cloud.requests[0].messages == (ChatMessage("system", APP_PROMPT), *conversation), "all fit the cloud"


async def test_the_chat_grounds_the_answer_on_the_projects_passages(pipeline, knowledge, local):
    pipeline.knowledge = knowledge
    question = Question(chat("How do bees tell each other where the flowers are?"), project_id="bees")
    prepared = await pipeline.prepare(ALICE, question)
    assert [p.document for p in prepared.passages] == ["Bee dances"]
    assert prepared.request.passages == (prepared.passages[0].text,)
    assert prepared.notes == ()
    await answer_all(pipeline, prepared)
    system, user = local.requests[0].messages
    assert system.role == "system" and system.content.startswith(APP_PROMPT)
    assert f"[1] (Bee dances)\n{prepared.passages[0].text}" in system.content
    assert user == ChatMessage("user", question.text)


async def test_personal_data_in_the_passages_keeps_a_cloud_pinned_question_from_going_out(
        pipeline, knowledge, local, cloud):
    pipeline.knowledge = knowledge
    question = Question(chat("Whom do I tell about a bee swarm?"), profile=CLOUD.id, project_id="contacts")
    prepared = await pipeline.prepare(ALICE, question)
    assert [p.document for p in prepared.passages] == ["Beekeeper"]
    assert prepared.decision.needs_confirmation and prepared.decision.model is None
    assert local.requests == [] and cloud.requests == []


async def test_the_api_keeps_the_clients_system_turns_and_trims_the_rest(pipeline, local):
    conversation = (ChatMessage("system", "Answer like a pirate."), *long_history(), ChatMessage("user", "And now?"))
    await answer_all(pipeline, await pipeline.prepare(ALICE, Question(conversation, mode=None, source="gateway")))
    sent = local.requests[0].messages
    assert fits(sent, context_length=LOCAL.context_length, max_output_tokens=MAX_OUTPUT)
    assert sent[0] == ChatMessage("system", "Answer like a pirate.") and sent[-1] == conversation[-1]
    assert 2 < len(sent) < len(conversation)
    assert not any(APP_PROMPT in m.content for m in sent), "the client brings its own instructions"


async def test_the_api_refuses_a_conversation_whose_system_turns_alone_do_not_fit_the_chosen_model(
        pipeline, local, cloud):
    # About 1,400 tokens of instructions: more than the local model's whole context.
    conversation = (ChatMessage("system", "Follow these house rules. " * 150), ChatMessage("user", "Hi"))
    prepared = await pipeline.prepare(ALICE, Question(conversation, mode=None, source="gateway"))
    assert prepared.decision.model == LOCAL
    with pytest.raises(ContextTooLong, match="Small Local"):
        pipeline.answer(prepared)
    assert local.requests == []
    # The same conversation fits the cloud model's context.
    pinned = await pipeline.prepare(ALICE, Question(conversation, profile=CLOUD.id, mode=None, source="gateway"))
    await answer_all(pipeline, pinned)
    assert cloud.requests[0].messages == conversation


# --- privacy ------------------------------------------------------------------------------------------

async def test_the_api_answers_personal_data_in_a_system_turn_locally_even_when_pinned_to_the_cloud(
        pipeline, local, cloud):
    conversation = (ChatMessage("system", f"The customer is {EMAIL}."), ChatMessage("user", "Draft a reply."))
    question = Question(conversation, profile=CLOUD.id, mode=None, privacy_choice="local", source="gateway")
    prepared = await pipeline.prepare(ALICE, question)
    assert prepared.decision.private and prepared.decision.model == LOCAL
    await answer_all(pipeline, prepared)
    assert local.requests[0].messages == conversation
    assert cloud.requests == []


async def test_the_chat_asks_before_personal_data_goes_to_a_pinned_cloud_model_and_sends_it_when_told(
        pipeline, local, cloud):
    question = Question(chat(f"Write to {EMAIL} about the meeting."), profile=CLOUD.id)
    prepared = await pipeline.prepare(ALICE, question)
    assert prepared.decision.needs_confirmation and prepared.decision.model is None
    with pytest.raises(ValueError):
        pipeline.answer(prepared)

    sent = await pipeline.reroute(prepared, "send")
    assert sent.decision.model == CLOUD and sent.question.privacy_choice == "send"
    await answer_all(pipeline, sent)
    assert cloud.requests[0].messages[-1] == ChatMessage("user", question.text)
    assert local.requests == []


# --- usage: recorded once per answer, however it ends ------------------------------------------------

async def test_usage_is_recorded_once_when_the_answer_ends(pipeline):
    counted = answers_counted()
    events = await answer_all(pipeline, await pipeline.prepare(ALICE, Question(chat("hello"))))
    assert isinstance(events[-1], Completed)
    assert await usage_of(pipeline) == [UsageSummary("alice", "local-fake", 1, 11, 4, 0.0)]
    assert answers_counted() == counted + 1


async def test_usage_is_recorded_when_the_model_breaks_off(pipeline, local):
    local.script = [Reply(drop_after=2)]
    counted = answers_counted()
    events = await answer_all(pipeline, await pipeline.prepare(ALICE, Question(chat("hello"))))
    assert any(isinstance(e, Notice) for e in events) and events[-1].record.error
    (row,) = await usage_of(pipeline)
    assert row.messages == 1 and row.prompt_tokens > 0 and row.completion_tokens > 0  # estimated: it is billed
    assert answers_counted() == counted + 1


async def test_usage_is_recorded_when_the_caller_fails_mid_answer(pipeline):
    prepared = await pipeline.prepare(ALICE, Question(chat("hello")))
    with pytest.raises(RuntimeError, match="rendering failed"):
        async with pipeline.answer(prepared, step_id="s") as answer:
            async for _ in answer:
                raise RuntimeError("rendering failed")
    (row,) = await usage_of(pipeline)
    assert row.messages == 1 and row.completion_tokens > 0


async def test_an_answer_the_user_stops_is_recorded_with_what_was_generated_so_far(pipeline, local):
    local.default = Reply(chunks=tuple(f"word{i} " for i in range(20)), prompt_tokens=30, completion_tokens=50)
    prepared = await pipeline.prepare(ALICE, Question(chat("Tell me a long story.")))
    counted = answers_counted()
    seen: list[str] = []
    halfway = asyncio.Event()

    async def render() -> None:
        async with pipeline.answer(prepared, step_id="stopped") as answer:
            async for event in answer:
                seen.append(event.text)
                if len(seen) == 3:
                    halfway.set()
                    await asyncio.Event().wait()  # showing the text when the stop button is pressed

    rendering = asyncio.create_task(render())
    await halfway.wait()
    rendering.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rendering
    (row,) = await usage_of(pipeline)
    assert row.messages == 1
    assert 0 < row.completion_tokens < 50, "the three words generated, estimated (no usage came)"
    assert answers_counted() == counted + 1


async def test_a_message_stopped_while_it_waits_in_line_leaves_it_and_costs_nothing(pipeline, local):
    pipeline.router.resilience.max_parallel[local.name] = 1  # the local model answers one message at a time
    held = Reply(hold_after=1)
    local.script = [held]
    first = await pipeline.prepare(ALICE, Question(chat("first")))
    second = await pipeline.prepare(ALICE, Question(chat("second")))
    counted = answers_counted()
    shown: list = []

    async def render(prepared, step_id: str, into: list) -> None:
        async with pipeline.answer(prepared, step_id=step_id) as answer:
            async for event in answer:
                into.append(event)

    answering = asyncio.create_task(render(first, "first", []))
    waiting = asyncio.create_task(render(second, "waiting", shown))
    while not any(isinstance(event, Queued) for event in shown):
        await asyncio.sleep(0.01)
    waiting.cancel()  # the stop button
    with pytest.raises(asyncio.CancelledError):
        await waiting
    line = pipeline.router.resilience.admission(local.name)
    assert (line.waiting, line.running) == (0, 1), "out of the line; the first answer still runs"
    held.release.set()
    await answering

    assert [request.messages[-1].content for request in local.requests] == ["first"]
    assert [event.place for event in shown if isinstance(event, Queued)] == [1]
    (row,) = await usage_of(pipeline)
    assert row.messages == 1, "only the answer that ran is billed"
    assert answers_counted() == counted + 1


async def test_nothing_is_recorded_when_nothing_was_sent(pipeline, local):
    prepared = await pipeline.prepare(ALICE, Question(chat("hello")))
    counted = answers_counted()
    async with pipeline.answer(prepared, step_id="never"):
        pass  # e.g. an API client that went away before the stream began
    assert local.requests == []
    assert await usage_of(pipeline) == []
    assert answers_counted() == counted


# --- retrieval failure ----------------------------------------------------------------------------------

class UnreachableKnowledge:
    """The two calls the pipeline makes; the store lists documents but cannot be searched (an outage)."""

    async def list_documents(self, project_id: str) -> list[str]:
        return ["notes.pdf"]

    async def retrieve(self, project_id: str, question: str, *, context: str = "") -> list:
        raise ConnectionError("Chroma is not answering")


async def test_a_retrieval_failure_still_answers_and_says_the_documents_were_not_used(pipeline, local):
    pipeline.knowledge = UnreachableKnowledge()
    prepared = await pipeline.prepare(ALICE, Question(chat("What do my notes say?"), project_id="p1"))
    assert prepared.passages is None
    (note,) = prepared.notes
    assert "could not be searched" in note
    events = await answer_all(pipeline, prepared)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello, world!"
    assert local.requests[0].messages[0] == ChatMessage("system", APP_PROMPT)


# --- a second opinion from the other class of model (the chat's comparison) -----------------------------

async def test_a_local_answer_gets_a_second_opinion_from_a_cloud_model_on_the_same_question(pipeline, local, cloud):
    question = Question(chat("Name a colour.", "Blue.", "Explain entropy."))
    prepared = await pipeline.prepare(ALICE, question)
    await answer_all(pipeline, prepared)
    assert prepared.decision.model == LOCAL

    assert await pipeline.second_opinion_kind(prepared) == "cloud"
    again = await pipeline.second_opinion(prepared, "cloud")
    assert again.decision.candidates == (CLOUD,), "pinned to the cloud: no local fallback would compare anything"
    await answer_all(pipeline, again, step_id="again")
    assert cloud.requests[0].messages[1:] == local.requests[0].messages[1:] == question.conversation


async def test_a_cloud_answer_gets_a_second_opinion_from_a_local_model(pipeline, local, cloud):
    prepared = await pipeline.prepare(ALICE, Question(chat("Explain entropy."), profile=CLOUD.id))
    assert await pipeline.second_opinion_kind(prepared) == "local"
    again = await pipeline.second_opinion(prepared, "local")
    await answer_all(pipeline, again)
    assert again.decision.candidates == (LOCAL,) and len(local.requests) == 1 and cloud.requests == []


@pytest.mark.parametrize("question, private_later", [
    (Question(chat("Explain entropy."), private_reason="this chat is marked private"), ""),
    (Question(chat(f"My e-mail is {EMAIL}.", "Noted.", "Explain entropy.")), ""),
    (Question(chat("Explain entropy.")), "this chat is marked private"),  # switched on after the first answer
], ids=["private chat", "personal data in the history", "made private later"])
async def test_a_private_conversation_gets_no_cloud_second_opinion_even_when_asked_for_one(
        pipeline, local, cloud, question, private_later):
    prepared = await pipeline.prepare(ALICE, question)
    if not private_later:
        assert await pipeline.second_opinion_kind(prepared) is None, "not offered"

    forced = await pipeline.second_opinion(prepared, "cloud", private_reason=private_later)

    assert forced.decision.model is None and forced.decision.private
    assert "never sent to a cloud model" in forced.decision.reasons[-1]
    with pytest.raises(ValueError):
        pipeline.answer(forced)
    assert cloud.requests == []


async def test_no_second_opinion_is_offered_when_no_model_of_the_other_class_is_available(local, engine):
    router = Router(CATALOG, {"local-fake": local}, max_tokens=MAX_OUTPUT)  # no cloud backend
    pipeline = Pipeline(router, Limits(SharedState(engine), clock=Clock()), engine=engine)
    prepared = await pipeline.prepare(ALICE, Question(chat("Explain entropy.")))
    assert await pipeline.second_opinion_kind(prepared) is None
    forced = await pipeline.second_opinion(prepared, "cloud")
    assert forced.decision.model is None and "no cloud model is available" in forced.decision.reasons[-1]


async def test_a_chat_answer_keeps_its_model_and_route_for_the_thumbs_that_rate_it(pipeline):
    from persistence._tables import answer_routes

    prepared = await pipeline.prepare(ALICE, Question(chat("Name a colour.")))
    async with pipeline.answer(prepared, step_id="in-a-thread", thread_id="t1") as answer:
        [event async for event in answer]
    await answer_all(pipeline, await pipeline.prepare(ALICE, Question(chat("hi"), source="gateway")),
                     step_id="api-call")  # no thread: nothing to rate, nothing kept
    async with pipeline.engine.connect() as conn:
        rows = (await conn.execute(answer_routes.select())).mappings().all()
    assert [(r["step_id"], r["thread_id"], r["user_identifier"], r["prompt"], r["model"], r["route"])
            for r in rows] == [("in-a-thread", "t1", "alice", "Name a colour.", "small", "local")]


class RecordingKnowledge:
    """Records what the pipeline searches the project's documents for."""

    def __init__(self) -> None:
        self.searches: list[tuple[str, str]] = []

    async def list_documents(self, project_id: str) -> list[str]:
        return ["hours.pdf"]

    async def retrieve(self, project_id: str, question: str, *, context: str = "") -> list:
        self.searches.append((question, context))
        return []


async def test_a_follow_up_is_searched_with_the_users_previous_question(pipeline):
    pipeline.knowledge = knowledge = RecordingKnowledge()
    await pipeline.prepare(ALICE, Question(chat("When does the bakery open?"), project_id="p1"))
    conversation = chat("When does the bakery open?", "At six on weekdays.", "And on Sundays?")
    await pipeline.prepare(ALICE, Question(conversation, project_id="p1"))
    assert knowledge.searches == [("When does the bakery open?", ""), ("And on Sundays?", "When does the bakery open?")]
