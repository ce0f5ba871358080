"""Chroma access: one chunk collection and one document manifest per project, one writer per folder.

Per-project collections (not one collection with a project filter) because Chroma's metadata
filters are its slow path. A document appears in the manifest only after all its chunks are
stored, so an interrupted ingestion never shows up as a document and its stray chunks are
ignored by retrieval and overwritten (same ids) by the next attempt.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError, NotFoundError

from knowledge._errors import StoreLocked
from settings import Settings

LOCK_FILE = "hybrid-chat-writer.lock"
_READ_ATTEMPTS = 3
_MANIFEST_VECTOR = [1.0]  # Chroma needs a vector per record; the manifest is only read by id
#: What a document is: an uploaded PDF (pages to cite, a file name that may name it) or a saved answer.
KIND_PDF = "pdf"
KIND_ARTIFACT = "artifact"


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ListedDocument:
    chunks: int
    document: str  # file name or artifact title
    kind: str  # KIND_PDF or KIND_ARTIFACT


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    distance: float


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}-{index}"


def document_of(chunk: str) -> str:
    """The doc id of a `chunk_id`."""
    return chunk.rpartition("-")[0]


class WriterLock:
    """An exclusive lock file: the kernel releases it when the holding process dies."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / LOCK_FILE
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise StoreLocked(str(folder)) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def open_client(settings: Settings) -> tuple[ClientAPI, WriterLock | None]:
    """A Chroma server when `CHROMA_HOST` is set, else the embedded store, locked for this process."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        return client, None
    lock = WriterLock(settings.chroma_dir)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings), lock
    except Exception:
        lock.release()
        raise


class ProjectStore:
    """The chunks and the document manifest of one project."""

    def __init__(self, client: ClientAPI, project_id: str) -> None:
        self._client = client
        self.project_id = project_id
        key = hashlib.sha256(project_id.encode()).hexdigest()[:32]
        self._chunks_name = f"kb-{key}"
        self._documents_name = f"kbdocs-{key}"

    def _collection(self, name: str, *, create: bool) -> Collection | None:
        if create:
            return self._client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"project_id": self.project_id},
                embedding_function=None,
            )
        try:
            return self._client.get_collection(name, embedding_function=None)
        except (NotFoundError, ValueError):
            return None

    # --- documents -------------------------------------------------------------------
    def document(self, doc_id: str) -> dict[str, Any] | None:
        manifest = self._collection(self._documents_name, create=False)
        if manifest is None:
            return None
        found = manifest.get(ids=[doc_id], include=["metadatas"])
        return dict(found["metadatas"][0]) if found["ids"] else None

    def documents(self) -> list[dict[str, Any]]:
        manifest = self._collection(self._documents_name, create=False)
        if manifest is None:
            return []
        return [dict(m) for m in manifest.get(include=["metadatas"])["metadatas"] or []]

    def listed(self) -> dict[str, ListedDocument]:
        """The documents of the manifest by id (what retrieval may return), in one read."""
        return {
            str(info["doc_id"]): ListedDocument(int(info["chunks"]), str(info["document"]), str(info["kind"]))
            for info in self.documents()
        }

    def add_chunks(self, chunks: list[StoredChunk], vectors: np.ndarray) -> None:
        """Write chunks of a document not yet listed: retrieval ignores them until `list_document`."""
        collection = self._collection(self._chunks_name, create=True)
        assert collection is not None
        batch = self._client.get_max_batch_size()
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            collection.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata for c in part],
                embeddings=vectors[start : start + batch],
            )

    def list_document(self, doc_id: str, info: dict[str, Any]) -> None:
        """Enter a document whose chunks are all written in the manifest: from now on it is retrieved."""
        manifest = self._collection(self._documents_name, create=True)
        assert manifest is not None
        manifest.upsert(ids=[doc_id], metadatas=[info], embeddings=[_MANIFEST_VECTOR])

    def remove_document(self, doc_id: str) -> bool:
        """True when the document was listed; its chunks go in any case (also stray ones)."""
        listed = self.document(doc_id) is not None
        manifest = self._collection(self._documents_name, create=False)
        if manifest is not None:
            manifest.delete(ids=[doc_id])
        collection = self._collection(self._chunks_name, create=False)
        if collection is not None:
            collection.delete(where={"doc_id": doc_id})
        return listed

    def count(self) -> int:
        collection = self._collection(self._chunks_name, create=False)
        return collection.count() if collection is not None else 0

    def drop(self) -> None:
        for name in (self._chunks_name, self._documents_name):
            if self._collection(name, create=False) is not None:
                self._client.delete_collection(name)

    # --- search ----------------------------------------------------------------------
    def keyword_entries(self, doc_id: str, chunks: int) -> list[tuple[str, list[str], int | None]]:
        """A document's part of the keyword index, in chunk order: (chunk id, terms, page) from the chunks' metadata.

        The page is the one a chunk cites whatever the question (0 without pages), None for a chunk
        over a page break (the question's words choose among its pages).
        """
        collection = self._collection(self._chunks_name, create=False)
        if collection is None or chunks <= 0:
            return []
        ids = [chunk_id(doc_id, index) for index in range(chunks)]
        batch = self._client.get_max_batch_size()
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), batch):
            part = collection.get(ids=ids[start : start + batch], include=["metadatas"])
            found.update((i, meta or {}) for i, meta in zip(part["ids"], part["metadatas"]))
        return [
            (i, str(meta.get("terms", "")).split(), None if meta.get("spans") else int(meta.get("page", 0)))
            for i in ids if (meta := found.get(i)) is not None
        ]

    def chunks(self, ids: list[str]) -> dict[str, tuple[StoredChunk, np.ndarray]]:
        """Chunks by id with their vectors (for keyword hits the vector search did not return)."""
        collection = self._collection(self._chunks_name, create=False)
        if collection is None or not ids:
            return {}
        found = collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        return {
            i: (StoredChunk(i, text or "", dict(meta or {})), np.asarray(vector, dtype=np.float32))
            for i, text, meta, vector in zip(found["ids"], found["documents"], found["metadatas"], found["embeddings"])
        }

    def nearest(self, vector: np.ndarray, k: int) -> list[Hit]:
        collection = self._collection(self._chunks_name, create=False)
        if collection is None or k <= 0:
            return []
        for attempt in range(_READ_ATTEMPTS):
            try:
                result = collection.query(
                    query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"]
                )
                break
            except InternalError:  # a server under bulk ingestion sometimes fails a read once
                if attempt == _READ_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        return [
            Hit(i, text or "", dict(meta or {}), float(distance))
            for i, text, meta, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]
