"""PostgreSQL stops in the middle of a chat: the chat keeps answering and says once what is missing.

Driven over chainlit's socket.io protocol against the running app and a real PostgreSQL server
that the test stops between two messages.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.app_server import AppServer, chat_users
from tests.support.postgres import running_postgres
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

USERS = {"alice": "alice-pw-1"}
NOT_SAVED = "could not be saved"
NO_DOCUMENTS = "documents cannot be read"


def replies(chat: ChatSession, since: int) -> list[dict]:
    """The assistant messages of a turn, last version of each."""
    latest = {m["id"]: m for m in chat.messages[since:] if m.get("type") == "assistant_message"}
    return list(latest.values())


async def test_the_chat_answers_while_the_database_is_down(tmp_path):
    with running_postgres() as postgres:
        env = {"CHAT_USERS": chat_users(USERS), "MAX_OUTPUT_TOKENS": "12", "DATABASE_URL": postgres.create_database()}
        with AppServer(tmp_path, env=env) as app:
            cookies = await sign_in(app.url, "alice", USERS["alice"])
            async with ChatSession(app.url, cookies) as chat:
                assert (await chat.send("Say hello."))["output"]
                assert not chat.toasts

                postgres.stop()
                for question in ("Name a colour.", "Name a fruit."):
                    seen = len(chat.messages)
                    await chat.send(question)
                    turn = replies(chat, seen)
                    notes = [m for m in turn if NO_DOCUMENTS in m["output"]]
                    answers = [m for m in turn if m not in notes]
                    assert len(notes) == 1, turn  # the project cannot be read: said once per answer
                    assert len(answers) == 1 and answers[0]["output"].strip() and not answers[0].get("isError"), turn
                # One notice for the whole outage, not one per failed save (three for each message).
                assert [t for t in chat.toasts if NOT_SAVED in t["message"]] == chat.toasts
                assert len(chat.toasts) == 1, chat.toasts

            async with httpx.AsyncClient(base_url=app.url, cookies=cookies) as http:
                listed = await http.post("/project/threads", json={"pagination": {"first": 20}, "filter": {}})
            assert listed.status_code == 503, listed.text
            assert "database" in listed.json()["detail"]
