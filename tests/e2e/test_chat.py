"""End to end in headless Chromium: sign in, pick a profile, chat with the real embedded model."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.app_server import TEST_USERS, AppServer, chat_users
from tests.support.chat_page import LOCAL_PROFILE, SocketLog, pick_profile, send, sign_in

pytestmark = pytest.mark.e2e

def test_two_streamed_turns_with_the_local_model(app_server, page):
    sockets = SocketLog(page)
    sign_in(page, app_server.url)
    pick_profile(page, sockets, LOCAL_PROFILE)

    send(page, "My name is Zorblax. Say hello to me.")
    sockets.wait_for_answers(1, page)
    tokens_first = sockets.count("stream_token")
    send(page, "What is my name?")
    sockets.wait_for_answers(2, page)
    tokens_second = sockets.count("stream_token") - tokens_first

    answers = page.locator('[data-step-type="assistant_message"]')
    assert answers.count() == 2
    assert all(answers.nth(i).inner_text().strip() for i in range(2))
    # Streamed token by token, not delivered in one piece.
    assert tokens_first >= 3 and tokens_second >= 3

    # The second request carried the first turn: system + user + assistant + user.
    page.get_by_text("Used Route").nth(1).click()
    expect(page.get_by_text("Messages sent: 4")).to_be_visible()
    page.get_by_text("Used Route").nth(0).click()
    expect(page.get_by_text("Messages sent: 2")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Route: local · SmolLM2 135M \(Foundry Local\)")).first).to_be_visible()


def test_unavailable_profile_explains_why_and_answers_locally(app_server, page):
    sockets = SocketLog(page)
    sign_in(page, app_server.url, user="bob")
    pick_profile(page, sockets, "Gemini 2.5 Flash (unavailable)")
    send(page, "Hello?")
    sockets.wait_for_answers(1, page)
    page.get_by_text("Used Route").first.click()
    expect(page.get_by_text(re.compile(r"Gemini 2.5 Flash unavailable \(.*GEMINI_API_KEY"))).to_be_visible()
    assert page.locator('[data-step-type="assistant_message"]').first.inner_text().strip()


@pytest.fixture(scope="module")
def long_answer_server(tmp_path_factory):
    """The app allowing 4,096-token answers, so an answer is still streaming when stop is pressed.

    With the default 512 tokens the embedded model can finish before a busy CI machine delivers
    the click, and stop then (rightly) has nothing left to stop.
    """
    env = {"CHAT_USERS": chat_users(TEST_USERS), "MAX_OUTPUT_TOKENS": "4096"}
    with AppServer(tmp_path_factory.mktemp("long"), env=env) as server:
        yield server


def test_stop_keeps_the_partial_answer(long_answer_server, page):
    sockets = SocketLog(page)
    sign_in(page, long_answer_server.url)
    pick_profile(page, sockets, LOCAL_PROFILE)
    send(page, "Write a very long story about a dragon who learns to cook, with many chapters.")
    stop = page.locator("#stop-button")
    expect(stop).to_be_visible(timeout=60_000)
    deadline = time.monotonic() + 60
    while sockets.count("stream_token") < 5 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert sockets.answered() == 0, "the answer ended before stop could be pressed"
    stop.dispatch_event("click")  # no actionability wait: the button re-renders while tokens stream
    sockets.wait_for_answers(1, page)
    page.wait_for_timeout(500)
    answers = page.locator('[data-step-type="assistant_message"]').all_inner_texts()
    stopped = [text for text in answers if "(stopped)" in text]
    assert stopped, answers
    assert len(stopped[0].replace("(stopped)", "").strip()) > 0
    # Generation really ended: far fewer tokens than the answer was allowed.
    streamed = sockets.count("stream_token")
    page.wait_for_timeout(2000)
    assert sockets.count("stream_token") == streamed < 4096


def test_wrong_password_is_refused(app_server, page):
    page.goto(app_server.url)
    page.fill("#email", "alice")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_timeout(1500)
    assert page.locator("#chat-input").count() == 0
    assert page.locator("#email").is_visible()
