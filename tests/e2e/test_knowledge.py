"""End to end in headless Chromium: a PDF dropped into the chat is indexed, and answers cite its page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.sync_api import expect
from pypdf import PdfWriter

from test_chat import LOCAL_PROFILE, SocketLog, pick_profile, send, sign_in

pytestmark = pytest.mark.e2e

PAGES = [
    "Apples grow in orchards. Farmers pick them in autumn and store them in cool cellars over winter.",
    "Trains connect the cities of the valley. The night train leaves at ten and arrives at dawn.",
    "The lighthouse keeper of the blue harbour paints the tower white every spring. "
    "The secret code of the blue harbour lighthouse is 7431.",
]


def make_pdf(path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in PAGES:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


def make_encrypted_pdf(path: Path, password: str) -> None:
    """The test PDF, opened only with `password` (AES-256)."""
    make_pdf(path.with_suffix(".plain.pdf"))
    writer = PdfWriter(clone_from=path.with_suffix(".plain.pdf"))
    writer.encrypt(password, owner_password="owner-secret-of-the-test", algorithm="AES-256")
    writer.write(path)


def upload_and_send(page, path, text: str) -> None:
    with page.expect_response(lambda r: "/project/file" in r.url and r.request.method == "POST") as upload:
        page.set_input_files("input[type=file]", str(path))
    assert upload.value.ok, upload.value.text()
    send(page, text)


def test_an_uploaded_pdf_is_indexed_and_its_page_cited(app_server, page, tmp_path):
    pdf = tmp_path / "harbour-guide.pdf"
    make_pdf(pdf)
    sockets = SocketLog(page)
    sign_in(page, app_server.url)
    pick_profile(page, sockets, LOCAL_PROFILE)

    upload_and_send(page, pdf, "What is the secret code of the blue harbour lighthouse?")
    sockets.wait_for_answers(1, page, timeout=240)

    expect(page.get_by_text(re.compile(r"Indexed harbour-guide\.pdf: 3 pages, \d+ passages"))).to_be_visible()
    answer = page.locator('[data-step-type="assistant_message"]').last
    expect(answer).to_contain_text("Sources: [1] harbour-guide.pdf, p. 3")
    expect(page.get_by_text("[1] harbour-guide.pdf, p. 3").first).to_be_visible()

    # The same file again is not indexed twice.
    upload_and_send(page, pdf, "Here it is again.")
    expect(page.get_by_text(re.compile(r"harbour-guide\.pdf is already in this project's knowledge"))).to_be_visible(
        timeout=60_000)

    # Resumed from history (a fresh load of the chat's page), the answer still cites its page.
    assert "/thread/" in page.url
    page.reload()
    answer = page.locator('[data-step-type="assistant_message"]').filter(has_text="Sources: [1]")
    citation = answer.locator("a.element-link", has_text="[1] harbour-guide.pdf, p. 3")
    expect(citation).to_be_visible(timeout=60_000)  # a link only while the stored PDF element came back too
    citation.click()  # opens the stored PDF, rendered at the cited page, in the side view
    expect(page.locator("#side-view-title")).to_contain_text("[1] harbour-guide.pdf, p. 3")
    expect(page.locator('#side-view-content .react-pdf__Page[data-page-number="3"] canvas')).to_be_visible(
        timeout=30_000)


def test_a_broken_pdf_gets_a_clear_message(app_server, page, tmp_path):
    broken = tmp_path / "broken.pdf"
    make_pdf(broken)
    broken.write_bytes(broken.read_bytes()[:400])  # truncated
    sockets = SocketLog(page)
    sign_in(page, app_server.url, user="bob")
    sockets.wait_for_chat_start(page)
    upload_and_send(page, broken, "Please add this file.")
    expect(page.get_by_text(re.compile(r"broken\.pdf: This PDF is damaged or truncated"))).to_be_visible(timeout=60_000)


def test_an_encrypted_pdf_asks_for_its_password_in_a_password_field(app_server, page, tmp_path):
    password = "violet-harbour-lantern"
    sealed = tmp_path / "sealed.pdf"
    make_encrypted_pdf(sealed, password)
    sockets = SocketLog(page)
    sign_in(page, app_server.url, user="bob")
    sockets.wait_for_chat_start(page)
    upload_and_send(page, sealed, "Please add this file.")
    field = page.locator('input[type="password"]')
    expect(field).to_be_visible(timeout=60_000)
    field.fill(password)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_text(re.compile(r"Indexed sealed\.pdf: 3 pages"))).to_be_visible(timeout=120_000)
    assert password not in page.content()  # not shown as a chat message, and the field is gone
