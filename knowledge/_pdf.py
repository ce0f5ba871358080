"""Read a PDF's text page by page, rejecting every kind of bad input with a typed, user-facing error.

Extraction uses pypdf's default ("plain") mode: on the real Debian manuals in
tests/knowledge/data and others measured here, "layout" mode gave the same words (no fewer
run-together ones) and was up to 30% slower.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError, LimitReachedError, PyPdfError

from knowledge._errors import (
    EmptyPdf, EncryptedPdf, MalformedPdf, NoTextLayer, NotAPdf, TooLarge, TooLargeDecompressed, TooManyPages,
)

# The PDF specification lets readers accept the header anywhere in the first 1024 bytes.
_HEADER_WINDOW = 1024


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as shown by PDF viewers
    text: str


@dataclass(frozen=True)
class PdfText:
    page_count: int
    pages: list[Page]  # only the pages that have text

    @property
    def pages_without_text(self) -> int:
        return self.page_count - len(self.pages)


def check_size(size_bytes: int, max_mb: float) -> None:
    """Reject an upload before reading it: the cheapest check comes first."""
    if size_bytes == 0:
        raise EmptyPdf()
    if size_bytes > max_mb * 1_000_000:
        raise TooLarge(size_bytes, max_mb)


def read_pdf(
    data: bytes,
    *,
    password: str | None = None,
    max_mb: float,
    max_pages: int,
    on_page: Callable[[int, int], None] | None = None,
) -> PdfText:
    """The text of every page; `on_page(pages_read, page_count)` reports progress."""
    check_size(len(data), max_mb)
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise NotAPdf()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        _unlock(reader, password)
        page_count = len(reader.pages)
    except EncryptedPdf:
        raise
    except EmptyFileError:
        raise EmptyPdf() from None
    except FileNotDecryptedError:
        raise EncryptedPdf() from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
        raise MalformedPdf(_describe(error)) from error
    if page_count == 0:
        raise EmptyPdf("it has no pages")
    if page_count > max_pages:
        raise TooManyPages(page_count, max_pages)

    pages: list[Page] = []
    for index in range(page_count):
        try:
            text = reader.pages[index].extract_text() or ""
            if not text.strip():
                # pypdf skips the content of a page without fonts: decode it (within pypdf's limit),
                # so a compression bomb is told apart from a scanned page. A scan's content is tiny.
                reader.pages[index].get_contents()
        except LimitReachedError as error:
            raise TooLargeDecompressed() from error
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
            raise MalformedPdf(f"page {index + 1}: {_describe(error)}") from error
        if text.strip():
            pages.append(Page(index + 1, text))
        if on_page is not None:
            on_page(index + 1, page_count)
    if not pages:
        raise NoTextLayer(page_count)
    return PdfText(page_count, pages)


def _unlock(reader: PdfReader, password: str | None) -> None:
    """Open an encrypted file with the given password, or the empty one owner-only files use."""
    if not reader.is_encrypted:
        return
    try:
        if reader.decrypt(password or "") == 0:
            raise EncryptedPdf(wrong_password=bool(password))
    except DependencyError as error:  # AES needs `cryptography`, a required dependency
        raise MalformedPdf(f"its encryption is not supported here: {error}") from error


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__
