"""Errors of the knowledge package, each with a message that can be shown to the user as is."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""


class PdfRejected(KnowledgeError):
    """The uploaded file cannot be indexed; nothing of it was stored."""


class NotAPdf(PdfRejected):
    def __init__(self) -> None:
        super().__init__("This file is not a PDF (it has no PDF header). Upload a .pdf document.")


class EmptyPdf(PdfRejected):
    def __init__(self, detail: str = "the file is empty") -> None:
        super().__init__(f"This PDF cannot be indexed: {detail}.")


class MalformedPdf(PdfRejected):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"This PDF is damaged or truncated and cannot be read ({detail}). "
            "Re-export or re-download it and try again."
        )


class EncryptedPdf(PdfRejected):
    """The file opens with a password the user may know: ask for it (`wrong_password`: ask again)."""

    def __init__(self, *, wrong_password: bool = False) -> None:
        self.wrong_password = wrong_password
        if wrong_password:
            message = "The password for this encrypted PDF is wrong. Try again with the right password."
        else:
            message = "This PDF is password-protected. Upload it again with its password."
        super().__init__(message)


class NoTextLayer(PdfRejected):
    def __init__(self, pages: int) -> None:
        super().__init__(
            f"None of the {pages} page(s) of this PDF contains text (scanned images?). "
            "Run it through OCR first, then upload the result."
        )


class TooLarge(PdfRejected):
    def __init__(self, size_bytes: int, limit_mb: float) -> None:
        self.limit_mb = limit_mb
        super().__init__(
            f"This file is {size_bytes / 1_000_000:.1f} MB; the limit is {limit_mb:g} MB (MAX_UPLOAD_MB)."
        )


class TooManyPages(PdfRejected):
    def __init__(self, pages: int, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"This PDF has {pages} pages; the limit is {limit} (MAX_PDF_PAGES). Split it into smaller files."
        )


class TooLargeDecompressed(PdfRejected):
    """A "compression bomb": a small file whose contents inflate beyond pypdf's safety limit."""

    def __init__(self) -> None:
        super().__init__(
            "This PDF is too large when decompressed: its contents expand far beyond its file size, "
            "more than can be read safely. Re-export it (e.g. print it to a new PDF) and try again."
        )


class StoreLocked(KnowledgeError):
    """Another process writes the embedded Chroma folder; a second writer would corrupt it."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"The app is running and holds the knowledge store ({path}); stop it or use a Chroma "
            "server (set CHROMA_HOST and CHROMA_PORT)."
        )

