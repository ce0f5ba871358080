"""End to end in headless Chromium: personal data never reaches a cloud model unless the user says so.

The cloud model is GPT through the real `openai` client, served by the local fake of
OpenAI's wire protocol (the real service is unreachable here); its answers are recognisable
("tok0 tok1 ..."), so each test sees which side answered.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer
from tests.support.chat_page import SocketLog, pick_profile, send
from tests.support.fake_servers import fake_openai_process

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-privacy-1"
CLOUD_PROFILE = "GPT-4.1 mini"
FAKE_ANSWER = "tok0 tok1"
PRIVATE_MESSAGE = "My e-mail is jane.doe@example.com and my phone is +62 812 3456 7890. Summarise my week."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with fake_openai_process(chunks=4) as base_url:
        env = {"CHAT_USERS": f"alice:{PASSWORD}", "OPENAI_API_KEY": "sk-e2e-not-a-real-key",
               "OPENAI_BASE_URL": base_url, "OPENAI_MODEL": "fake-model"}
        with AppServer(tmp_path_factory.mktemp("privacy"), env=env) as app:
            yield app


@pytest.fixture
def chat(server, page):
    sockets = SocketLog(page)
    page.goto(server.url)
    page.fill("#email", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    sockets.wait_for_chat_start(page)
    pick_profile(page, sockets, CLOUD_PROFILE)
    return page, sockets


def last_answer(page) -> str:
    return page.locator('[data-step-type="assistant_message"]').last.inner_text()


def test_an_ordinary_message_goes_to_the_chosen_cloud_model(chat):
    page, sockets = chat
    send(page, "Explain what a hash map is.")
    sockets.wait_for_answers(1, page)
    assert FAKE_ANSWER in last_answer(page)


def test_personal_data_asks_first_and_answer_locally_keeps_it_here(chat):
    page, sockets = chat
    send(page, PRIVATE_MESSAGE)
    page.get_by_role("button", name="Answer locally").click()
    sockets.wait_for_answers(1, page)
    assert FAKE_ANSWER not in last_answer(page)
    page.get_by_text("Used Route").last.click()
    expect(page.get_by_text(re.compile("you chose to answer locally → local only instead of GPT-4.1 mini"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Personal data \(masked\): .*e-mail address"))).to_be_visible()
    assert "jane.doe@example.com" not in page.locator('[data-step-type="tool"]').last.inner_text()


def test_cancel_sends_nothing(chat):
    page, sockets = chat
    send(page, PRIVATE_MESSAGE)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled: nothing was sent.")).to_be_visible()


def test_send_anyway_is_the_users_choice_and_is_recorded(chat):
    page, sockets = chat
    send(page, PRIVATE_MESSAGE)
    page.get_by_role("button", name="Send anyway").click()
    sockets.wait_for_answers(1, page)
    assert FAKE_ANSWER in last_answer(page)
    page.get_by_text("Used Route").last.click()
    expect(page.get_by_text(re.compile("you chose GPT-4.1 mini and to send anyway"))).to_be_visible()


def test_a_chat_marked_private_never_goes_to_the_cloud(chat):
    page, sockets = chat
    page.click("#chat-settings-open-modal")
    page.click("#private_chat")
    page.click("#confirm")
    send(page, "Explain what a hash map is.")
    sockets.wait_for_answers(1, page)
    assert FAKE_ANSWER not in last_answer(page)
    page.get_by_text("Used Route").last.click()
    expect(page.get_by_text(re.compile("this chat is marked private"))).to_be_visible()
