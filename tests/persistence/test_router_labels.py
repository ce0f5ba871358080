"""The router's labels on both engines: each answer's model and route, thumbs joined with them, comparisons."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import chainlit as cl
import pytest
from chainlit.types import Feedback
from chainlit.user import User

from persistence import (
    AnswerRoute, Comparison, list_comparisons, list_thumbs, record_answer_route, record_comparison,
)


async def answer_in_thread(layer, user: str, prompt: str, *, model: str, route: str, score: float | None = None,
                           created_at: datetime | None = None) -> tuple[str, str]:
    """A thread of `user` with a stored answer step and its route; (thread id, step id)."""
    owner = await layer.create_user(User(identifier=user))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name=prompt, user_id=owner.id)
    reply = cl.Message(content="an answer", type="assistant_message")
    reply.thread_id = thread_id
    await layer.create_step(reply.to_dict())
    extra = {"created_at": created_at} if created_at else {}
    await record_answer_route(layer.engine, AnswerRoute(reply.id, user, prompt, model, route, thread_id=thread_id,
                                                        strong_win_rate=score, **extra))
    return thread_id, reply.id


async def thumb(layer, thread_id: str, step_id: str, value: int) -> None:
    await layer.upsert_feedback(Feedback(forId=step_id, threadId=thread_id, value=value))


async def test_a_thumb_is_read_with_the_model_and_route_of_the_answer_it_rates(layer):
    earlier = datetime.now(timezone.utc) - timedelta(hours=1)
    thread, local_step = await answer_in_thread(layer, "alice", "What is 2+2?", model="smollm2-135m", route="local",
                                                score=0.12, created_at=earlier)
    await thumb(layer, thread, local_step, 0)
    thread, cloud_step = await answer_in_thread(layer, "alice", "Prove Fermat.", model="gpt-4.1-mini", route="cloud")
    await thumb(layer, thread, cloud_step, 1)
    _, unrated = await answer_in_thread(layer, "alice", "Hello", model="smollm2-135m", route="local")

    thumbs = await list_thumbs(layer.engine)

    assert [(t.step_id, t.prompt, t.model, t.route, t.value, t.strong_win_rate) for t in thumbs] == [
        (local_step, "What is 2+2?", "smollm2-135m", "local", 0, 0.12),
        (cloud_step, "Prove Fermat.", "gpt-4.1-mini", "cloud", 1, None),
    ]
    assert thumbs[0].created_at == earlier and unrated not in {t.step_id for t in thumbs}


async def test_a_thumb_changed_later_counts_once_with_its_last_value(layer):
    thread, step = await answer_in_thread(layer, "alice", "Name a colour.", model="smollm2-135m", route="local")
    await thumb(layer, thread, step, 1)
    await thumb(layer, thread, step, 0)
    assert [t.value for t in await list_thumbs(layer.engine)] == [0]


async def test_a_thumb_by_someone_else_than_the_answers_user_is_not_a_label(layer):
    """The feedback guard refuses it over HTTP (test_feedback_guard.py); one stored another way is left out."""
    thread, step = await answer_in_thread(layer, "alice", "Name a colour.", model="smollm2-135m", route="local")
    await record_answer_route(layer.engine, AnswerRoute(step, "mallory", "Name a colour.", "smollm2-135m", "local",
                                                        thread_id=thread))
    await thumb(layer, thread, step, 0)
    assert await list_thumbs(layer.engine) == []


async def test_comparisons_are_stored_and_a_second_verdict_replaces_the_first(layer):
    first = Comparison("alice", "s1", "s2", "Explain entropy.", "smollm2-135m", "gpt-4.1-mini", "local", "cloud",
                       thread_id="t1", strong_win_rate=0.4)
    await record_comparison(layer.engine, first)
    await record_comparison(layer.engine, Comparison("bob", "s3", "s4", "Hi", "smollm2-135m", "gpt-4.1-mini",
                                                     "cloud", "both"))
    await record_comparison(layer.engine, Comparison("alice", "s1", "s2", "Explain entropy.", "smollm2-135m",
                                                     "gpt-4.1-mini", "local", "local", thread_id="t1"))

    stored = await list_comparisons(layer.engine)
    assert sorted((c.user_identifier, c.preference) for c in stored) == [("alice", "local"), ("bob", "both")]
    alice = (await list_comparisons(layer.engine, "alice"))[0]
    assert (alice.first_step_id, alice.second_step_id, alice.prompt, alice.local_model, alice.cloud_model,
            alice.first_route, alice.thread_id) == ("s1", "s2", "Explain entropy.", "smollm2-135m", "gpt-4.1-mini",
                                                    "local", "t1")
    assert alice.created_at.tzinfo is not None


def test_a_verdict_or_route_outside_the_known_ones_is_refused():
    with pytest.raises(ValueError):
        Comparison("alice", "s1", "s2", "p", "l", "c", "local", "second")
    with pytest.raises(ValueError):
        AnswerRoute("s1", "alice", "p", "m", "elsewhere")
