"""The password of an encrypted PDF is used once, to open it, and kept nowhere.

Driven over chainlit's socket.io protocol against the running app. The cloud model is GPT
through the real `openai` client, served by the local fake of OpenAI's wire protocol, which
records every request it receives; the chat is then resumed from the database, so the stored
history is what the cloud model is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.app_server import AppServer, chat_users
from tests.support.fake_servers import fake_openai_process
from tests.support.socketio_client import ChatSession, sign_in
from persistence import HybridDataLayer
from tests.support.knowledge_pdfs import encrypted_guide

pytestmark = pytest.mark.e2e

USERS = {"alice": "alice-pw-1"}
CLOUD_PROFILE = "GPT-4.1 mini"
PDF_PASSWORD = "violet-harbour-lantern"
FAKE_ANSWER = "tok0 tok1"


@pytest.fixture(scope="module")
def cloud_requests(tmp_path_factory):
    """The file where the fake cloud server writes every request it receives, and its base URL."""
    record = tmp_path_factory.mktemp("cloud") / "requests.jsonl"
    record.touch()
    with fake_openai_process(chunks=2, record_file=record) as base_url:
        yield record, base_url


def type_the_password(chat: ChatSession, ask: dict) -> dict:
    """Answer the app's question as a user would, whichever way it asks."""
    if ask["spec"]["type"] == "text":  # a plain question: the answer goes back as a chat message
        return chat.user_message(PDF_PASSWORD)
    return {"submitted": True, "password": PDF_PASSWORD}  # the password prompt (submitElement)


async def stored_rows(database: Path) -> str:
    layer = HybridDataLayer(f"sqlite+aiosqlite:///{database}")
    try:
        rows = [await layer.execute_sql(f"SELECT * FROM {table}", {}) for table in ("threads", "steps", "elements")]
    finally:
        await layer.engine.dispose()
    return json.dumps(rows, default=str)


async def test_a_pdf_password_is_never_stored_sent_to_a_model_or_logged(cloud_requests, tmp_path):
    record, cloud_url = cloud_requests
    env = {"CHAT_USERS": chat_users(USERS), "OPENAI_API_KEY": "sk-e2e-not-a-real-key", "OPENAI_BASE_URL": cloud_url,
           "OPENAI_MODEL": "fake-model", "LOG_LEVEL": "DEBUG", "MAX_OUTPUT_TOKENS": "12"}
    with AppServer(tmp_path / "app", env=env) as app:
        cookies = await sign_in(app.url, "alice", USERS["alice"])
        async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
            chat.answer_ask = lambda ask: type_the_password(chat, ask)
            (tmp_path / "sealed.pdf").write_bytes(encrypted_guide(PDF_PASSWORD))
            uploaded = await chat.upload("sealed.pdf", (tmp_path / "sealed.pdf").read_bytes())
            await chat.send("Please add this document.", files=[uploaded.json()], timeout=240)
            await chat.wait_for(lambda m: "Indexed sealed.pdf" in m.get("output", ""), timeout=240)
            await chat.wait_for(lambda m: FAKE_ANSWER in m.get("output", ""))  # the message is answered too
            assert len(chat.asks) == 1
            thread_id = chat.thread_id

        async with ChatSession(app.url, cookies, thread_id=thread_id, chat_profile=CLOUD_PROFILE) as resumed:
            await resumed.wait_resumed()
            assert FAKE_ANSWER in (await resumed.send("What did I ask you before?"))["output"]

        stored = await stored_rows(app.data_dir / "hybrid_chat.db")
        log = app.log()
    requests = [json.loads(line) for line in record.read_text().splitlines()]
    generations = [r for r in requests if r["path"].endswith("/chat/completions")]
    assert len(generations) == 2 and "Please add this document." in json.dumps(generations[-1])  # resumed history
    assert "Please add this document." in stored and PDF_PASSWORD not in stored
    assert not [r for r in requests if PDF_PASSWORD in json.dumps(r)]
    assert PDF_PASSWORD not in log
