"""The ingestion pipeline: validate and read, chunk, embed, store; all or nothing per document."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from knowledge._chunking import Chunk, chunk_pages, encode_spans
from embedding import Embedder
from knowledge._errors import KnowledgeError
from knowledge._pdf import read_pdf
from knowledge._keywords import indexed_terms
from knowledge._store import KIND_ARTIFACT, KIND_PDF, ProjectStore, StoredChunk, chunk_id

# Chunks embedded before their write is handed to the writer thread: Chroma costs more per chunk
# in smaller writes (1,899 chunks: 1.8 s of CPU in parts of 512, 2.0-2.3 s of 128, 2.9-3.3 s of 32).
WRITE_CHUNKS = 256


@dataclass(frozen=True)
class IngestProgress:
    """Where an ingestion stands; `stage` is "reading", "embedding", "storing" or "done"."""

    stage: str
    pages_read: int
    pages_total: int
    chunks_embedded: int = 0
    chunks_total: int = 0


@dataclass(frozen=True)
class IngestSummary:
    doc_id: str
    document: str
    kind: str
    pages: int
    pages_without_text: int
    chunks: int
    already_indexed: bool
    seconds: float

    def describe(self) -> str:
        """One sentence for the user."""
        if self.already_indexed:
            return f"{self.document} is already in this project's knowledge ({self.chunks} passages); nothing to do."
        skipped = f", {self.pages_without_text} without text skipped" if self.pages_without_text else ""
        pages = f"{self.pages} pages{skipped}, " if self.kind == KIND_PDF else ""
        return f"Indexed {self.document}: {pages}{self.chunks} passages in {self.seconds:.1f} s."


ProgressCallback = Callable[[IngestProgress], None]


def document_id(data: bytes) -> str:
    """Identical bytes give the identical id, which makes re-uploads idempotent."""
    return hashlib.sha256(data).hexdigest()[:32]


def ingest_pdf(
    store: ProjectStore,
    embedder: Embedder,
    *,
    owner: str,
    filename: str,
    data: bytes,
    password: str | None = None,
    max_mb: float,
    max_pages: int,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    started = time.perf_counter()
    report = progress or (lambda _: None)
    doc_id = document_id(data)
    known = store.document(doc_id)
    if known is not None:
        return _summary(known, already_indexed=True, seconds=time.perf_counter() - started)

    pdf = read_pdf(
        data,
        password=password,
        max_mb=max_mb,
        max_pages=max_pages,
        on_page=lambda done, total: report(IngestProgress("reading", done, total)),
    )
    chunks = chunk_pages((page.number, page.text) for page in pdf.pages)
    info = {
        "doc_id": doc_id,
        "document": filename,
        "kind": KIND_PDF,
        "owner": owner,
        "pages": pdf.page_count,
        "pages_without_text": pdf.pages_without_text,
        "chunks": len(chunks),
        "size_bytes": len(data),
    }
    pages = pdf.page_count
    total = len(chunks)
    _index(store, embedder, info, chunks, lambda done: report(IngestProgress("embedding", pages, pages, done, total)))
    report(IngestProgress("done", pages, pages, total, total))
    return _summary(info, already_indexed=False, seconds=time.perf_counter() - started)


def save_artifact(store: ProjectStore, embedder: Embedder, *, owner: str, title: str, text: str) -> IngestSummary:
    """A saved answer becomes a document of the project, retrieved like any PDF (without pages)."""
    started = time.perf_counter()
    title, text = title.strip() or "Saved answer", text.strip()
    if not text:
        raise KnowledgeError("There is no text to save.")
    doc_id = "artifact-" + document_id(f"{title}\0{text}".encode())[:24]
    known = store.document(doc_id)
    if known is not None:
        return _summary(known, already_indexed=True, seconds=time.perf_counter() - started)
    chunks = chunk_pages([(0, text)])
    info = {
        "doc_id": doc_id,
        "document": title,
        "kind": KIND_ARTIFACT,
        "owner": owner,
        "pages": 0,
        "pages_without_text": 0,
        "chunks": len(chunks),
        "size_bytes": len(text.encode()),
    }
    _index(store, embedder, info, chunks, lambda _: None)
    return _summary(info, already_indexed=False, seconds=time.perf_counter() - started)


def _index(
    store: ProjectStore, embedder: Embedder, info: dict[str, Any], chunks: list[Chunk], on_batch: Callable[[int], None]
) -> None:
    """Embed part after part while a writer thread stores the parts before (keyword terms, then Chroma).

    onnxruntime embeds outside the GIL, so the writes overlap the embedding instead of following
    it. All or nothing: the document is listed once every part is written, and a failure
    removes what was written once the writer has stopped.
    """
    doc_id = info["doc_id"]
    writer = ThreadPoolExecutor(1, thread_name_prefix="knowledge-writer")
    try:
        writes: list[Future[None]] = []
        for start in range(0, len(chunks), WRITE_CHUNKS):
            part = chunks[start : start + WRITE_CHUNKS]
            texts = [chunk.embedded_text for chunk in part]
            vectors = embedder.embed(texts, on_batch=lambda done, before=start: on_batch(before + done))
            writes.append(writer.submit(_store, store, info, part, vectors))
            while writes and writes[0].done():  # a failed write stops the embedding early
                writes.pop(0).result()
        for write in writes:
            write.result()
        info["added_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        store.list_document(doc_id, info)
    except BaseException:
        writer.shutdown(wait=True, cancel_futures=True)  # nothing may land after the removal
        store.remove_document(doc_id)
        raise
    writer.shutdown(wait=True)


def _store(store: ProjectStore, info: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray) -> None:
    stored = [
        StoredChunk(
            id=chunk_id(info["doc_id"], chunk.index),
            text=chunk.text,
            metadata={
                "doc_id": info["doc_id"],
                "document": info["document"],
                "kind": info["kind"],
                "owner": info["owner"],
                "page": chunk.page,
                "chunk": chunk.index,
                "section": chunk.section,
                "spans": encode_spans(chunk.spans),
                "terms": " ".join(indexed_terms(chunk.section, chunk.text)),  # the chunk's entry in the keyword index
            },
        )
        for chunk in chunks
    ]
    store.add_chunks(stored, vectors)


def _summary(info: dict[str, Any], *, already_indexed: bool, seconds: float) -> IngestSummary:
    return IngestSummary(
        doc_id=str(info["doc_id"]),
        document=str(info["document"]),
        kind=str(info["kind"]),
        pages=int(info["pages"]),
        pages_without_text=int(info.get("pages_without_text", 0)),
        chunks=int(info["chunks"]),
        already_indexed=already_indexed,
        seconds=seconds,
    )
