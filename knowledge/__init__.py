"""Project knowledge: PDFs -> page-aware chunks -> embeddings -> Chroma, and retrieval with citations.

The app uses `KnowledgeBase` (async); `python -m knowledge` is the command line.
"""

from knowledge._knowledge_base import DocumentInfo, KnowledgeBase, Progress
from knowledge._errors import (
    EmptyPdf,
    EncryptedPdf,
    KnowledgeError,
    MalformedPdf,
    NoTextLayer,
    NotAPdf,
    PdfRejected,
    StoreLocked,
    TooLarge,
    TooLargeDecompressed,
    TooManyPages,
)
from knowledge._ingest import IngestProgress, IngestSummary
from knowledge._pdf import check_size
from knowledge._retrieve import Passage

__all__ = [
    "DocumentInfo",
    "EmptyPdf",
    "EncryptedPdf",
    "IngestProgress",
    "IngestSummary",
    "KnowledgeBase",
    "KnowledgeError",
    "MalformedPdf",
    "NoTextLayer",
    "NotAPdf",
    "Passage",
    "PdfRejected",
    "Progress",
    "StoreLocked",
    "TooLarge",
    "TooLargeDecompressed",
    "TooManyPages",
    "check_size",
]
