"""Comparing a local with a cloud answer in headless Chromium, as a user does it.

The cloud model is GPT through the real `openai` client, served by the fake of OpenAI's wire
protocol in a process of its own that appends every request it receives to a file; the local
model is the real embedded one. The verdict is read back from the app's database.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer, chat_users
from tests.support.chat_page import LOCAL_PROFILE, SocketLog, pick_profile, send
from tests.support.fake_servers import fake_openai_process
from tests.support.secret import SECRET

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-compare-1"
FAKE_ANSWER = "tok0 tok1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with GPT on the recording fake; (app, file of the requests the fake received)."""
    record = tmp_path_factory.mktemp("cloud") / "requests.jsonl"
    record.touch()
    with fake_openai_process(chunks=2, record_file=record) as base_url:
        env = {"CHAT_USERS": chat_users({"alice": PASSWORD, "bob": PASSWORD}), "OPENAI_API_KEY": SECRET,
               "OPENAI_BASE_URL": base_url, "OPENAI_MODEL": "fake-model",
               "OLLAMA_ENABLED": "false", "MAX_OUTPUT_TOKENS": "24"}
        with AppServer(tmp_path_factory.mktemp("compare"), env=env) as app:
            app.wait_for_local_model()
            yield app, record


def open_chat(page, app: AppServer, user: str) -> SocketLog:
    sockets = SocketLog(page)
    page.goto(app.url)
    page.fill("#email", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    pick_profile(page, sockets, LOCAL_PROFILE)
    return sockets


def session_id_of(page) -> dict:
    """Where the page's chainlit session id will be: the socket.io connect packet carries it in its auth."""
    seen: dict = {}

    def sent(frame) -> None:
        if isinstance(frame, str) and frame.startswith("40{") and "sessionId" in frame:
            seen["id"] = json.loads(frame[2:])["sessionId"]

    page.on("websocket", lambda ws: ws.on("framesent", sent))
    return seen


def last_answer_id(sockets: SocketLog) -> str:
    """The id of the newest assistant message the page received."""
    messages = [json.loads(frame[2:])[1] for frame in sockets.frames if frame.startswith('42["new_message"')]
    return [m for m in messages if m.get("type") == "assistant_message"][-1]["id"]


def cloud_generations(record: Path) -> list[dict]:
    requests = [json.loads(line) for line in record.read_text().splitlines()]
    return [r for r in requests if r["path"].endswith("/chat/completions")]


def comparisons(app: AppServer, user: str) -> list[tuple]:
    with sqlite3.connect(app.data_dir / "hybrid_chat.db") as db:
        return db.execute("SELECT prompt, first_route, preference FROM route_comparisons WHERE user_identifier = ?",
                          (user,)).fetchall()


def test_ask_a_stronger_model_pick_the_better_answer_and_the_label_is_stored(server, page):
    app, record = server
    sockets = open_chat(page, app, "alice")
    send(page, "Name a colour.")
    sockets.wait_for_answers(1, page)
    assert cloud_generations(record) == []

    page.get_by_role("button", name="Ask a stronger model").click()
    expect(page.get_by_text("Which answer was better")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Your choice teaches this app's router")).to_be_visible()
    assert FAKE_ANSWER in page.locator('[data-step-type="assistant_message"]').all_inner_texts()[-2]
    page.get_by_role("button", name="The second").click()
    expect(page.get_by_text("Thank you, noted")).to_be_visible()

    assert comparisons(app, "alice") == [("Name a colour.", "local", "cloud")]
    assert cloud_generations(record)[-1]["body"]["messages"][-1] == {"role": "user", "content": "Name a colour."}


def test_a_private_chat_offers_no_cloud_comparison_and_refuses_a_forged_one(server, page):
    app, record = server
    sent_before = len(cloud_generations(record))
    session = session_id_of(page)
    sockets = open_chat(page, app, "bob")
    page.click("#chat-settings-open-modal")
    page.click("#private_chat")
    page.click("#confirm")
    send(page, "Name a colour.")
    sockets.wait_for_answers(1, page)
    expect(page.get_by_role("button", name="Save to knowledge")).to_be_visible()  # the answer's actions are shown

    expect(page.get_by_role("button", name="Ask a stronger model")).to_have_count(0)

    # The button's request sent anyway, from the signed-in page, for its own answer.
    answer_id = last_answer_id(sockets)
    forged = {"id": "forged", "name": "compare_models", "payload": {"step_id": answer_id}, "forId": answer_id,
              "label": "Ask a stronger model"}
    assert page.request.post(app.url + "/project/action", data={"sessionId": session["id"], "action": forged}).ok
    expect(page.get_by_text("No second answer")).to_be_visible()
    expect(page.get_by_text("never sent to a cloud model")).to_be_visible()
    assert len(cloud_generations(record)) == sent_before and comparisons(app, "bob") == []
