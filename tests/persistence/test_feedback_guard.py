"""Feedback over HTTP: only the author of a chat may rate, re-rate or delete feedback in it."""

from __future__ import annotations

import uuid

import chainlit as cl
from chainlit.user import User


async def bob_message(layer) -> str:
    bob = await layer.create_user(User(identifier="bob"))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name="Bob's", user_id=bob.id)
    msg = cl.Message(content="bob's question", type="user_message")
    msg.thread_id = thread_id
    await layer.create_step(msg.to_dict())
    return msg.id


def rating(for_id: str, value: int, feedback_id: str | None = None, comment: str = "") -> dict:
    return {"feedback": {"forId": for_id, "value": value, "id": feedback_id, "comment": comment}, "sessionId": "s"}


async def test_only_the_author_rates_and_deletes_feedback(signed_in, alice_thread, layer):
    thread_id, _ = alice_thread
    alice_step = (await layer.get_thread(thread_id))["steps"][0]["id"]
    bobs_step = await bob_message(layer)
    async with signed_in("alice") as alice, signed_in("bob") as bob:
        rated = await alice.put("/feedback", json=rating(alice_step, 1, comment="great"))
        assert rated.status_code == 200
        feedback_id = rated.json()["feedbackId"]

        assert (await bob.put("/feedback", json=rating(alice_step, 0, comment="spam"))).status_code == 404
        hijack = await bob.put("/feedback", json=rating(bobs_step, 0, feedback_id=feedback_id, comment="spam"))
        assert hijack.status_code == 404
        deleted = await bob.request("DELETE", "/feedback", json={"feedbackId": feedback_id})
        assert deleted.status_code == 404
        stored = await layer.get_step(alice_step)
        assert stored["feedback"]["value"] == 1 and stored["feedback"]["comment"] == "great"

        assert (await bob.put("/feedback", json=rating(bobs_step, 0, comment="meh"))).status_code == 200
        assert (await alice.request("DELETE", "/feedback", json={"feedbackId": feedback_id})).status_code == 200
        assert (await layer.get_step(alice_step))["feedback"] is None
