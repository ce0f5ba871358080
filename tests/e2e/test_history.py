"""Chat history through the running app: resume after a restart, isolation between users, and load.

Driven over chainlit's socket.io protocol (what the browser speaks), on SQLite and on a
real PostgreSQL server started by the tests.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from persistence import HybridDataLayer
from tests.support.app_server import AppServer
from tests.support.postgres import running_postgres
from tests.support.socketio_client import ChatSession, ConnectionRefused, sign_in

pytestmark = pytest.mark.e2e

USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
ENV = {"CHAT_USERS": ",".join(f"{u}:{p}" for u, p in USERS.items()), "MAX_OUTPUT_TOKENS": "12",
       "OLLAMA_ENABLED": "false"}  # the embedded model alone


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """(DATABASE_URL or "" for the default SQLite file, DATA_DIR) for one engine."""
    data_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield "", data_dir
        return
    with running_postgres() as server:
        yield server.create_database(), data_dir


def start(database) -> AppServer:
    url, data_dir = database
    return AppServer(data_dir, env={**ENV, "DATABASE_URL": url})


async def test_a_resumed_chat_survives_a_restart_and_continues_multi_turn(database):
    with start(database) as server:
        cookies = await sign_in(server.url, "alice", USERS["alice"])
        async with ChatSession(server.url, cookies) as chat:
            assert (await chat.send("My name is Zorblax."))["output"]
            thread_id = chat.thread_id
    with start(database) as server:  # a new process on the same database
        cookies = await sign_in(server.url, "alice", USERS["alice"])
        async with ChatSession(server.url, cookies, thread_id=thread_id) as chat:
            thread = await chat.wait_resumed()
            assert any(step.get("output") == "My name is Zorblax." for step in thread["steps"])
            assert (await chat.send("What is my name?"))["output"]
            # system + the resumed user and assistant turns + the new question
            assert "Messages sent: 4" in chat.route_output()


async def test_another_user_can_neither_list_open_resume_nor_delete_a_chat(database):
    with start(database) as server:
        alice = await sign_in(server.url, "alice", USERS["alice"])
        bob = await sign_in(server.url, "bob", USERS["bob"])
        async with ChatSession(server.url, alice) as chat:
            await chat.send("A private note about my holiday plans.")
            thread_id = chat.thread_id

        with pytest.raises(ConnectionRefused):
            async with ChatSession(server.url, bob, thread_id=thread_id):
                pass

        async with httpx.AsyncClient(base_url=server.url, cookies=bob) as client:
            listed = await client.post("/project/threads", json={"pagination": {"first": 20}, "filter": {}})
            assert listed.status_code == 200 and thread_id not in listed.text
            opened = await client.get(f"/project/thread/{thread_id}")
            assert opened.status_code in (401, 403, 404)
            deleted = await client.request("DELETE", "/project/thread", json={"threadId": thread_id})
            assert deleted.status_code in (401, 403, 404)

        async with httpx.AsyncClient(base_url=server.url, cookies=alice) as client:
            mine = await client.get(f"/project/thread/{thread_id}")
            assert mine.status_code == 200 and "holiday plans" in mine.text


#: The suite's 600 s per test is too short when both cores are busy with other work: the line then takes
#: up to ~1,600 s to clear (the README's MAX_WAIT_S reasoning), and that is waiting, not failing.
@pytest.mark.timeout(2400)
async def test_one_hundred_concurrent_sessions_lose_no_message(database):
    """On the embedded model alone, which answers one message at a time: the others wait their turn, see
    their place in line, and are all answered by the model (no timeout, no paused model, nothing lost)."""
    sessions, turns = 100, 3
    with start(database) as server:
        cookies = await sign_in(server.url, "alice", USERS["alice"])
        chats = [ChatSession(server.url, cookies) for _ in range(sessions)]
        await asyncio.gather(*(chat.connect() for chat in chats))

        async def converse(index: int, chat: ChatSession) -> list[str]:
            sent = []
            for turn in range(turns):
                text = f"session {index} message {turn}"
                await chat.send(text, timeout=600)
                sent.append(text)
            return sent

        started = time.perf_counter()
        sent = await asyncio.gather(*(converse(i, chat) for i, chat in enumerate(chats)))
        elapsed = time.perf_counter() - started
        await asyncio.gather(*(chat.close() for chat in chats))

    layer = HybridDataLayer(database[0] or f"sqlite+aiosqlite:///{database[1] / 'hybrid_chat.db'}")
    try:
        for chat, texts in zip(chats, sent):
            thread = await layer.get_thread(chat.thread_id)
            steps = thread["steps"]
            assert [s["output"] for s in steps if s["type"] == "user_message"] == texts
            answers = [s["output"] for s in steps if s["type"] == "assistant_message"]
            assert len(answers) == turns and all(a and not _failed(a) for a in answers), answers
    finally:
        await layer.engine.dispose()
    waited = [chat for chat in chats if any("Waited in line" in route for route in _routes(chat))]
    assert len(waited) > sessions // 2, "most sessions had to wait: the model answers one message at a time"
    assert all(any(" in line for " in shown for shown in chat.streamed) for chat in waited), \
        "every session that waited was shown its place"
    print(f"\n{sessions * turns} messages from {sessions} sessions in {elapsed:.1f} s "
          f"({sessions * turns / elapsed:.1f} messages/s), {len(waited)} sessions waited in line")


#: How the app says a model failed, was paused or was too busy (the model's own text may say "busy").
FAILURE_SIGNS = ("could not answer", "No model could answer", "paused after repeated failures",
                 "so nothing was sent")


def _failed(answer: str) -> bool:
    """An answer that says the model failed, was paused or was too busy, instead of answering."""
    return any(sign in answer for sign in FAILURE_SIGNS)


def _routes(chat: ChatSession) -> list[str]:
    return [m["output"] for m in chat.messages if m.get("name") == "Route" and m.get("output")]
