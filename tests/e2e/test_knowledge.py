"""End to end in headless Chromium: a PDF dropped into the chat is indexed, and answers cite its page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.chat_page import LOCAL_PROFILE, SocketLog, pick_profile, sign_in, upload_and_send
from tests.support.knowledge_pdfs import HARBOUR_GUIDE, encrypted_guide, make_pdf

pytestmark = pytest.mark.e2e
CODE_SENTENCE = "The secret code of the blue harbour lighthouse is 7431."

def test_an_uploaded_pdf_is_indexed_and_its_page_cited(app_server, page, tmp_path):
    pdf = tmp_path / "harbour-guide.pdf"
    pdf.write_bytes(make_pdf(HARBOUR_GUIDE))
    sockets = SocketLog(page)
    sign_in(page, app_server.url)
    pick_profile(page, sockets, LOCAL_PROFILE)

    upload_and_send(page, pdf, "What is the secret code of the blue harbour lighthouse?")
    sockets.wait_for_answers(1, page, timeout=240)

    expect(page.get_by_text(re.compile(r"Indexed harbour-guide\.pdf: 3 pages, \d+ passages"))).to_be_visible()
    answer = page.locator('[data-step-type="assistant_message"]').last
    expect(answer).to_contain_text("Sources: [1] harbour-guide.pdf, p. 3 ([1] passage)")
    expect(page.get_by_text("[1] harbour-guide.pdf, p. 3").first).to_be_visible()
    # The passage the answer rests on, to check it: in the side view, and in the Sources step under the answer.
    # dispatch_event, not click(): a click lands on coordinates, and while the answer's links still
    # move (elements arriving on a busy machine) it can hit the neighbouring link
    answer.locator("a.element-link", has_text="[1] passage").dispatch_event("click")
    expect(page.locator("#side-view-title")).to_contain_text("[1] passage")
    expect(page.locator("#side-view-content")).to_contain_text(CODE_SENTENCE, timeout=30_000)
    page.get_by_text("Used Sources").last.click()
    expect(page.locator("blockquote", has_text=CODE_SENTENCE).first).to_be_visible()

    # The same file again is not indexed twice.
    upload_and_send(page, pdf, "Here it is again.")
    expect(page.get_by_text(re.compile(r"harbour-guide\.pdf is already in this project's knowledge"))).to_be_visible(
        timeout=60_000)

    # Resumed from history (a fresh load of the chat's page), the answer still cites its page.
    assert "/thread/" in page.url
    page.reload()
    # .first, twice: an answer citing the page, and its first link to it. Chainlit links every mention of an
    # element's name, so a model that names the source in its text adds a link; a clean-clone run found two
    answer = page.locator('[data-step-type="assistant_message"]').filter(has_text="Sources: [1]").first
    citation = answer.locator("a.element-link", has_text="[1] harbour-guide.pdf, p. 3").first
    expect(citation).to_be_visible(timeout=60_000)  # a link only while the stored PDF element came back too
    citation.dispatch_event("click")  # opens the stored PDF, rendered at the cited page, in the side view
    expect(page.locator("#side-view-title")).to_contain_text("[1] harbour-guide.pdf, p. 3")
    expect(page.locator('#side-view-content .react-pdf__Page[data-page-number="3"] canvas')).to_be_visible(
        timeout=30_000)


def test_a_broken_pdf_gets_a_clear_message(app_server, page, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(make_pdf(HARBOUR_GUIDE)[:400])  # truncated
    sockets = SocketLog(page)
    sign_in(page, app_server.url, user="bob")
    sockets.wait_for_chat_start(page)
    upload_and_send(page, broken, "Please add this file.")
    expect(page.get_by_text(re.compile(r"broken\.pdf: This PDF is damaged or truncated"))).to_be_visible(timeout=60_000)


def test_an_encrypted_pdf_asks_for_its_password_in_a_password_field(app_server, page, tmp_path):
    password = "violet-harbour-lantern"
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(encrypted_guide(password))
    sockets = SocketLog(page)
    sign_in(page, app_server.url, user="bob")
    sockets.wait_for_chat_start(page)
    upload_and_send(page, sealed, "Please add this file.")
    # The field is sent before the question it answers: typed into before the question arrives,
    # it is drawn again (empty) or its answer has nowhere to go, and a busy machine widens that gap.
    sockets.wait_for_event("ask", page, timeout=60)
    field = page.locator('input[type="password"]')
    indexed = page.get_by_text(re.compile(r"Indexed sealed\.pdf: 3 pages"))
    expect(field).to_be_visible(timeout=60_000)
    # Chainlit draws the field a moment before the page registers its question; on a busy machine what
    # is typed and sent in that moment can be dropped (the field is drawn again, empty, or its answer
    # goes nowhere). So the password is typed again while the field is still there and nothing was
    # indexed; once the question is answered, a further submit does nothing.
    for _ in range(4):
        if field.is_visible():
            field.fill(password)
            field.press("Enter")  # submits from the focused field, as a user would: no pointer to miss
        try:
            expect(indexed).to_be_visible(timeout=20_000)
            break
        except AssertionError:
            continue
    expect(indexed).to_be_visible(timeout=120_000)
    assert password not in page.content()  # not shown as a chat message, and the field is gone
