"""`KnowledgeBase`: the async face of the package for the app, the CLI and notebooks.

Every blocking step (PDF parsing, embedding, Chroma) runs in a worker thread, so the event
loop keeps serving other users while a large file is ingested.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from knowledge import _ingest
from embedding import Embedder, shared_embedder
from knowledge._ingest import IngestProgress, IngestSummary
from knowledge._keywords import ProjectKeywords
from knowledge._retrieve import Passage, retrieve
from knowledge._store import ProjectStore, open_client
from settings import Settings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Called on the event loop with the latest progress; may be a coroutine function.
Progress = Callable[[IngestProgress], Awaitable[None] | None]


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    document: str  # file name or artifact title
    kind: str  # "pdf" or "artifact"
    owner: str  # who uploaded or saved it
    pages: int
    chunks: int
    size_bytes: int
    added_at: str  # ISO 8601, UTC

    @classmethod
    def from_manifest(cls, info: dict[str, Any]) -> DocumentInfo:
        return cls(**{name: info[name] for name in cls.__dataclass_fields__})


class KnowledgeBase:
    """Project knowledge over one Chroma store.

    Opening the embedded store takes its writer lock (raises `StoreLocked` if another process
    holds it); call `close()` to release it. With `CHROMA_HOST` set, any number of processes
    may share the server.
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or get_settings()
        self._client, self._lock = open_client(self.settings)
        self._embedder = embedder
        self._keywords: dict[str, ProjectKeywords] = {}  # per project, kept in step with the store
        self._keywords_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = shared_embedder(self.settings)
        return self._embedder

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def project(self, project_id: str) -> ProjectStore:
        if not project_id:
            raise ValueError("project_id must not be empty")
        return ProjectStore(self._client, project_id)

    async def warm_up(self) -> None:
        """Load the embedding model now (at app start) instead of on the first question."""
        await asyncio.to_thread(lambda: self.embedder)

    async def ingest_pdf(
        self,
        project_id: str,
        owner: str,
        filename: str,
        data: bytes,
        *,
        password: str | None = None,
        progress: Progress | None = None,
    ) -> IngestSummary:
        """Index a PDF; raises a `PdfRejected` subclass (message for the user) and then stores nothing."""
        relay = _ProgressRelay(progress)
        store = self.project(project_id)
        return await relay.run(
            asyncio.to_thread(
                lambda: _ingest.ingest_pdf(
                    store,
                    self.embedder,
                    owner=owner,
                    filename=filename,
                    data=data,
                    password=password,
                    max_mb=self.settings.max_upload_mb,
                    max_pages=self.settings.max_pdf_pages,
                    progress=relay.post,
                )
            )
        )

    async def save_artifact(self, project_id: str, owner: str, title: str, text: str) -> IngestSummary:
        store = self.project(project_id)
        return await asyncio.to_thread(
            lambda: _ingest.save_artifact(store, self.embedder, owner=owner, title=title, text=text)
        )

    async def list_documents(self, project_id: str) -> list[DocumentInfo]:
        infos = await asyncio.to_thread(self.project(project_id).documents)
        return sorted((DocumentInfo.from_manifest(info) for info in infos), key=lambda d: (d.added_at, d.document))

    async def remove_document(self, project_id: str, doc_id: str) -> bool:
        """Remove a document and all its passages; False if it was not listed."""
        return await asyncio.to_thread(self.project(project_id).remove_document, doc_id)

    def keywords(self, project_id: str) -> ProjectKeywords:
        """This process's keyword index of a project (loaded from the store on first use)."""
        with self._keywords_lock:
            return self._keywords.setdefault(project_id, ProjectKeywords())

    async def retrieve(
        self,
        project_id: str,
        question: str,
        *,
        context: str = "",
        k: int | None = None,
        min_score: float | None = None,
    ) -> list[Passage]:
        """The passages to give the model; an empty list means nothing relevant was found.

        `context`: the conversation's previous question, so a follow-up finds what it refers to.
        """
        store = self.project(project_id)
        return await asyncio.to_thread(
            lambda: retrieve(
                store,
                self.embedder,
                self.keywords(project_id),
                question,
                context=context,
                k=k or self.settings.retrieval_k,
                min_score=self.settings.retrieval_min_score if min_score is None else min_score,
            )
        )

    async def delete_project(self, project_id: str) -> None:
        await asyncio.to_thread(self.project(project_id).drop)


class _ProgressRelay:
    """Carries progress from the worker thread to the event loop, keeping only the latest event
    when the callback is slower than the pipeline (a 5,000-page file must not queue 5,000 UI updates)."""

    def __init__(self, callback: Progress | None) -> None:
        self._callback = callback
        self._loop = asyncio.get_running_loop()
        self._latest: IngestProgress | None = None
        self._pending = asyncio.Event()

    def post(self, event: IngestProgress) -> None:
        """Worker thread side."""
        if self._callback is not None:
            self._latest = event
            self._loop.call_soon_threadsafe(self._pending.set)

    async def run(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        while True:
            waiter = asyncio.ensure_future(self._pending.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if self._pending.is_set():
                self._pending.clear()
                await self._deliver()
            if task.done():
                return task.result()

    async def _deliver(self) -> None:
        if self._callback is None or self._latest is None:
            return
        try:
            result = self._callback(self._latest)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a broken progress display must not abort the ingestion
            log.exception("progress callback failed; ingestion continues without progress")
            self._callback = None
