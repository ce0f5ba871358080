"""A private message behind too long a local line, in a chat over chainlit's socket.io protocol.

It may not go to the cloud and may not wait longer than `MAX_WAIT_S`: the chat says the local
model is busy and when to try again, and nothing is sent anywhere. The local model is Ollama on
the scripted fake of its wire protocol, which holds an answer until the test releases it, so the
line is full for as long as the test needs (the embedded model would finish on its own time);
the cloud model is GPT on the recording fake of OpenAI's, which must see no request.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support.app_server import chat_users
from tests.support.cloud_app import app_on_fake_cloud, fake_openai
from tests.support.fake_servers import FakeServer, Reply
from tests.support.gateway_server import until
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = pytest.mark.e2e

USERS = {"alice": "alice-pw-1"}
LOCAL_PROFILE = "Llama 3.2 3B (Ollama)"
#: The one answer that is timed: it is held this long, so the line's mean answer time is at least this.
ANSWER_S = 3.0
MAX_WAIT_S = 1.0
BUSY = re.compile(r"⏳ Llama 3\.2 3B \(Ollama\) is busy \(about (\d+) s in line\), so nothing was sent: "
                  r"try again in about (\d+) s\.")


@pytest.fixture(scope="module")
async def ollama():
    server = await FakeServer("ollama", models=("llama-test:1b",)).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="module")
async def cloud():
    async with fake_openai() as server:
        yield server


@pytest.fixture(scope="module")
async def app(ollama, cloud, tmp_path_factory):
    env = {"CHAT_USERS": chat_users(USERS), "FOUNDRY_ENABLED": "false", "OLLAMA_ENABLED": "true",
           "OLLAMA_BASE_URL": ollama.base_url, "OLLAMA_MODEL": "llama-test:1b", "OLLAMA_MAX_PARALLEL": "1",
           "MAX_WAIT_S": str(MAX_WAIT_S), "MAX_RETRIES": "0"}
    async with app_on_fake_cloud(tmp_path_factory.mktemp("busy"), cloud, env) as server:
        yield server


async def test_a_private_message_behind_too_long_a_local_line_is_told_to_try_again_and_nothing_is_sent(
        app, ollama, cloud):
    timed, held = Reply(hold_after=1), Reply(hold_after=1)
    ollama.script = [timed, held]
    cookies = await sign_in(app.url, "alice", USERS["alice"])
    async with ChatSession(app.url, cookies, chat_profile=LOCAL_PROFILE) as busy_chat, \
            ChatSession(app.url, cookies) as private_chat:
        first = asyncio.ensure_future(busy_chat.send("Say hello."))
        await until(lambda: len(ollama.generation_requests()) == 1)
        await asyncio.sleep(ANSWER_S)  # the line's one measured answer takes at least ANSWER_S
        timed.release.set()
        await first
        second = asyncio.ensure_future(busy_chat.send("Say hello again."))
        await until(lambda: len(ollama.generation_requests()) == 2)  # the model is busy with it

        reply = await private_chat.send("My e-mail is rina@example.com, say hello.")

        held.release.set()
        await second

    busy = BUSY.fullmatch(reply["output"])
    assert busy, f"a clear busy message, not a vague failure: {reply['output']!r}"
    in_line_s, retry_s = (int(group) for group in busy.groups())
    assert in_line_s >= ANSWER_S - 0.5 and retry_s >= 1, "the wait is at least the one measured answer"
    assert cloud.generation_requests() == [], "a private message never goes to the cloud"
    assert len(ollama.generation_requests()) == 2, "nor to the busy local model: only the two that filled its line"
