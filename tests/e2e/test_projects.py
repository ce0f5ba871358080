"""End to end in headless Chromium: a project's knowledge is shared with invited members only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer, chat_users
from tests.support.chat_page import SocketLog, send, upload_and_send
from tests.support.knowledge_pdfs import HARBOUR_GUIDE, make_pdf

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-projects-1"
USERS = ("alice@example.com", "bob@example.com", "carol@example.com")
QUESTION = "What is the secret code of the blue harbour lighthouse?"
CITED = "sources: [1] harbour-guide.pdf, p. 3"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    users = chat_users(dict.fromkeys(USERS, PASSWORD))
    with AppServer(tmp_path_factory.mktemp("projects"), env={"CHAT_USERS": users}) as app:
        yield app


def open_chat(browser, url: str, user: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    sockets = SocketLog(page)
    page.goto(url)
    page.fill("#email", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    sockets.wait_for_chat_start(page)
    return page, sockets


def ask(page, sockets: SocketLog, text: str) -> str:
    done = sockets.answered()
    send(page, text)
    sockets.wait_for_answers(done + 1, page, timeout=180)
    # Lower case: the model's markdown may style the last lines (a heading is shown in capitals).
    return page.locator('[data-step-type="assistant_message"]').last.inner_text().lower()


def command(page, sockets: SocketLog, name: str) -> None:
    done = sockets.answered()
    page.click("#chat-input")
    page.keyboard.type("/")
    page.get_by_role("option", name=re.compile(f"^{name}")).click()
    page.fill("#chat-input", "show")
    page.click("#chat-submit")
    sockets.wait_for_answers(done + 1, page)


def test_members_share_a_project_and_lose_it_when_removed(server, browser, tmp_path):
    pdf = tmp_path / "harbour-guide.pdf"
    pdf.write_bytes(make_pdf(HARBOUR_GUIDE))

    alice, alice_sockets = open_chat(browser, server.url, "alice@example.com")
    upload_and_send(alice, pdf, QUESTION)
    alice_sockets.wait_for_answers(1, alice, timeout=240)
    expect(alice.locator('[data-step-type="assistant_message"]').last).to_contain_text(CITED, ignore_case=True)

    command(alice, alice_sockets, "Projects")
    alice.get_by_role("button", name="Invite by e-mail").click()
    expect(alice.get_by_text("E-mail address to invite")).to_be_visible()
    send(alice, "bob@example.com")
    expect(alice.get_by_text("bob@example.com can now use")).to_be_visible()

    bob, bob_sockets = open_chat(browser, server.url, "bob@example.com")
    bob.click("#chat-settings-open-modal")
    bob.click("#project")
    bob.get_by_role("option", name="My project (shared by alice@example.com)").click()
    bob.click("#confirm")
    expect(bob.get_by_text("Switched to the project My project")).to_be_visible()
    assert CITED in ask(bob, bob_sockets, QUESTION)

    carol, carol_sockets = open_chat(browser, server.url, "carol@example.com")
    assert "harbour-guide" not in ask(carol, carol_sockets, QUESTION)

    alice.get_by_role("button", name="Remove bob@example.com").last.click()
    expect(alice.get_by_text("bob@example.com no longer has access")).to_be_visible()

    assert "harbour-guide" not in ask(bob, bob_sockets, QUESTION)
    for page in (alice, bob, carol):
        page.context.close()
