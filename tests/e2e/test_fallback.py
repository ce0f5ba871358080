"""A cloud model failing in a chat, over chainlit's socket.io protocol: what the fallback note says and does.

The cloud model is GPT through the real `openai` client, served by the scripted fake of
OpenAI's wire protocol running in this test's event loop; the fallback is the real
embedded model.
"""

from __future__ import annotations

import re

import pytest

from router import scan_text
from router.continuation import CONTINUE_INSTRUCTION, echoes_instruction
from tests.support.app_server import chat_users
from tests.support.cloud_app import cloud_app_fixtures
from tests.support.fake_servers import Hangup, Reply
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = pytest.mark.e2e

USERS = {"alice": "alice-pw-1"}
CLOUD_PROFILE = "GPT-4.1 mini"

cloud, app = cloud_app_fixtures("fallback", {"CHAT_USERS": chat_users(USERS), "MAX_RETRIES": "0",
                                             "MAX_OUTPUT_TOKENS": "24"})


@pytest.fixture(autouse=True)
def fresh_script(cloud):
    cloud.script.clear()
    cloud.requests.clear()


def send_anyway(chat: ChatSession, ask: dict) -> dict:
    """Answer the privacy question as its "Send anyway" button does."""
    return next(a for a in chat.actions if a["id"] in ask["spec"]["keys"] and a["payload"]["choice"] == "send")


async def test_a_fallback_note_names_no_address_and_the_chat_stays_open_to_the_cloud(app, cloud):
    cloud.script = [Hangup()]  # the provider is down for the first message only
    cookies = await sign_in(app.url, "alice", USERS["alice"])
    async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
        first = await chat.send("Say hello.")
        assert "GPT-4.1 mini could not answer" in first["output"], "the fallback note is shown"
        shown = [message.get("output") or "" for message in chat.messages]
        assert not [text for text in shown if re.search(r"https?://|127\.0\.0\.1", text)], "no provider address"

        # The embedded model writes at the chat's temperature: when its answer happens to hold personal
        # data (a name, in one CI run), the next message carries it along and is rightly asked about.
        # "Send anyway" then: what this test is about is that the cloud model is tried again.
        chat.answer_ask = lambda ask: send_anyway(chat, ask)
        second = await chat.send("Name one colour.")

        model_text = first["output"].strip().partition("\n\n")[2]  # the fallback model's answer, after the note
        assert len(chat.asks) == (1 if scan_text(model_text) else 0), "an ordinary message needs no confirmation"
        assert all("(history[1])" in ask["msg"]["output"] for ask in chat.asks), "only the model's answer is"
        assert second["output"] == "Hello, world!", "answered by the cloud model"
        route = chat.route_output()
        assert route.startswith(f"Route: cloud · {CLOUD_PROFILE}") and "private" not in route
        sent = cloud.generation_requests()[-1].body["messages"]
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
        assert "could not answer" not in sent[2]["content"], "the app's own notes are not part of the conversation"


async def test_a_mid_answer_fallback_marks_the_seam_as_the_api_does_and_the_route_names_both_models(app, cloud):
    cloud.script = [Reply(chunks=("The", " rest never arrives"), drop_after=1)]  # breaks off after "The"
    cookies = await sign_in(app.url, "alice", USERS["alice"])
    async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
        answer = (await chat.send("Explain what a hash map is."))["output"]

        assert answer.startswith("The\n\n> GPT-4.1 mini stopped in the middle of the answer"), answer
        assert " [… continued by SmolLM2 135M (Foundry Local)] " in answer
        # The instruction stays out of the continuation's start, where small models echo it (`Seam` judges the
        # start only, so the rest streams unheld; the model writes at the chat's temperature, so a later sentence
        # may still reword it now and then). The API test pins the wording at temperature 0.
        continuation = answer.split("(Foundry Local)] ", 1)[1]
        assert CONTINUE_INSTRUCTION not in continuation
        first_sentence = re.split(r"(?<=[.!?])\s+|\n", continuation.strip(), maxsplit=1)[0]
        assert not echoes_instruction(first_sentence), continuation
        assert "Answered by GPT-4.1 mini, then SmolLM2 135M (Foundry Local)" in chat.route_output()


async def test_a_message_sent_anyway_after_the_privacy_question_is_answered_in_the_same_turn(app, cloud):
    """What the first test relies on when the fallback answer held personal data: the turn goes on after the ask."""
    cookies = await sign_in(app.url, "alice", USERS["alice"])
    async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
        chat.answer_ask = lambda ask: send_anyway(chat, ask)
        answer = await chat.send("My e-mail is jane.doe@example.com. Name one colour.")

        (ask,) = chat.asks
        assert "(prompt)" in ask["msg"]["output"]
        assert answer["output"] == "Hello, world!", "answered by the cloud model, as the user chose"
        assert "jane.doe@example.com" in cloud.generation_requests()[-1].body["messages"][-1]["content"]
