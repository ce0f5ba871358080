"""PDF reading and validation: every kind of bad input ends with a typed error and a clear message."""

from __future__ import annotations

import io
import random
import re

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter

from knowledge import (
    EmptyPdf,
    EncryptedPdf,
    MalformedPdf,
    NoTextLayer,
    NotAPdf,
    PdfRejected,
    TooLarge,
    TooManyPages,
)
from knowledge._pdf import read_pdf
from tests.support.knowledge_pdfs import SAMPLES, TOPIC_PAGES, compression_bomb, encrypt, make_pdf

LIMITS = {"max_mb": 50, "max_pages": 100}


def read(data: bytes, **options):
    return read_pdf(data, **{**LIMITS, **options})


def zero_page_pdf() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def test_reads_every_page_with_its_number():
    pdf = read(make_pdf(TOPIC_PAGES))
    assert pdf.page_count == len(TOPIC_PAGES)
    assert [page.number for page in pdf.pages] == [1, 2, 3, 4]
    assert "waggle dance" in pdf.pages[1].text


def test_reports_progress_page_by_page():
    seen: list[tuple[int, int]] = []
    read(make_pdf(TOPIC_PAGES), on_page=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_scanned_pages_are_skipped_and_counted():
    pdf = read(make_pdf([TOPIC_PAGES[0], None, TOPIC_PAGES[1]]))
    assert [page.number for page in pdf.pages] == [1, 3]
    assert pdf.pages_without_text == 1


def truncated_real_pdf() -> bytes:
    data = (SAMPLES / "CAD.pdf").read_bytes()
    return data[: len(data) * 6 // 10]


def random_bytes_with_header() -> bytes:
    generator = random.Random(7)
    return b"%PDF-1.7\n" + bytes(generator.getrandbits(8) for _ in range(20_000))


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: b"", EmptyPdf, "empty"),
        (lambda: b"Dear team, the minutes of today's meeting are attached.\n" * 20, NotAPdf, "not a PDF"),
        (lambda: bytes(random.Random(3).getrandbits(8) for _ in range(5000)), NotAPdf, "not a PDF"),
        (random_bytes_with_header, MalformedPdf, "damaged or truncated"),
        (lambda: make_pdf(TOPIC_PAGES)[:-900], MalformedPdf, "damaged or truncated"),
        (truncated_real_pdf, MalformedPdf, "damaged or truncated"),
        (lambda: b"%PDF-1.4\n", MalformedPdf, "damaged or truncated"),
        (zero_page_pdf, EmptyPdf, "no pages"),
        (lambda: make_pdf([None, None]), NoTextLayer, "OCR"),
    ],
    ids=["empty", "text-file", "random-bytes", "random-with-header", "truncated-generated", "truncated-real",
         "header-only", "zero-pages", "scanned"],
)
def test_bad_input_is_rejected_with_a_clear_message(make, error, words):
    with pytest.raises(error, match=words) as caught:
        read(make())
    assert isinstance(caught.value, PdfRejected)
    assert str(caught.value).endswith(".")  # a full sentence for the user, not a traceback


@pytest.mark.parametrize("with_font", [False, True], ids=["looks-scanned", "text-page"])
def test_a_compression_bomb_is_refused_as_too_large_when_decompressed(with_font):
    """100 KB that inflate to 100 MB: pypdf stops at its limit; the message must not blame a scan or damage."""
    with pytest.raises(PdfRejected, match="too large when decompressed") as caught:
        read(compression_bomb(with_font=with_font))
    assert "OCR" not in str(caught.value) and "damaged" not in str(caught.value)


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_encrypted_pdf_asks_for_its_password_then_opens_with_it(algorithm):
    data = encrypt(make_pdf(TOPIC_PAGES), user_password="s3cret", owner_password="owner", algorithm=algorithm)
    with pytest.raises(EncryptedPdf, match="password-protected") as missing:
        read(data)
    assert not missing.value.wrong_password
    with pytest.raises(EncryptedPdf, match="wrong") as wrong:
        read(data, password="guess")
    assert wrong.value.wrong_password
    assert read(data, password="s3cret").page_count == len(TOPIC_PAGES)


def test_pdf_with_only_an_owner_password_opens_without_asking():
    data = encrypt(make_pdf(TOPIC_PAGES), user_password="", owner_password="owner")
    assert "Volcanoes" in read(data).pages[0].text


def test_size_limit_is_checked_before_parsing():
    data = make_pdf(TOPIC_PAGES)
    with pytest.raises(TooLarge, match="MAX_UPLOAD_MB") as caught:
        read(data, max_mb=len(data) / 2_000_000)
    assert caught.value.limit_mb == pytest.approx(len(data) / 2_000_000)


def test_page_limit():
    with pytest.raises(TooManyPages, match="4 pages; the limit is 3"):
        read(make_pdf(TOPIC_PAGES), max_pages=3)


@pytest.mark.parametrize("name", ["reportlab-userguide.pdf", "CAD.pdf", "asy-latex.pdf"])
def test_text_of_real_documents_keeps_words_apart(name):
    """pypdf runs words together on some PDFs; on these, runs of 18+ lowercase letters (which no
    English word or identifier here has, except a few in a logo or a hyphenation example) stay rare."""
    data = (SAMPLES / name).read_bytes()
    pdf = read(data, max_pages=500)
    assert pdf.page_count == len(PdfReader(io.BytesIO(data)).pages)
    words = [word for page in pdf.pages for word in re.findall(r"[A-Za-z]+", page.text)]
    run_together = [word for word in words if len(word) >= 18 and word.islower()]
    assert len(words) > 1000
    assert len(run_together) / len(words) < 0.001, run_together[:10]


def test_text_comes_in_plain_lines_with_the_hyphens_that_chunking_joins():
    """PDFium ends lines with "\\r\\n" and marks a hyphen it joined across lines with "\\x02" (CAD.pdf has
    "ver-/sion" on page 1): the text keeps "\\n" only and the hyphen with its line break, as pypdf gave it."""
    pdf = read((SAMPLES / "CAD.pdf").read_bytes())
    assert "future ver-\nsion: the order" in pdf.pages[0].text
    assert not [page.number for page in pdf.pages if re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", page.text)]


def test_a_file_pdfium_cannot_open_is_read_by_pypdf(monkeypatch):
    """PDFium and pypdf repair damaged files differently: what pypdf opens is still read, by pypdf alone."""

    def refuse(*args, **kwargs):
        raise pdfium.PdfiumError("Failed to load document (PDFium: Data format error).")

    monkeypatch.setattr(pdfium, "PdfDocument", refuse)
    pdf = read(make_pdf(TOPIC_PAGES))
    assert [page.number for page in pdf.pages] == [1, 2, 3, 4] and "waggle dance" in pdf.pages[1].text
