"""Question -> the most relevant passages of a project, with the document and page to cite."""

from __future__ import annotations

from dataclasses import dataclass

from embedding import Embedder
from knowledge._store import ProjectStore


@dataclass(frozen=True)
class Passage:
    document: str  # file name (or artifact title)
    page: int | None  # 1-based; None for saved answers
    score: float  # cosine similarity in [-1, 1]; higher is more relevant
    text: str
    doc_id: str
    kind: str  # "pdf" or "artifact"

    @property
    def citation(self) -> str:
        return f"{self.document}, p. {self.page}" if self.page else self.document


def retrieve(store: ProjectStore, embedder: Embedder, question: str, *, k: int, min_score: float) -> list[Passage]:
    """At most `k` passages scoring at least `min_score`, best first; empty means "nothing relevant".

    Chunks of a document missing from the manifest (an interrupted ingestion) are skipped.
    """
    if not question.strip():
        return []
    vector = embedder.embed([question])[0]
    hits = [hit for hit in store.nearest(vector, k) if 1.0 - hit.distance >= min_score]
    listed = store.existing([str(hit.metadata.get("doc_id", "")) for hit in hits])
    return [
        Passage(
            document=str(hit.metadata.get("document", "")),
            page=int(hit.metadata.get("page", 0)) or None,
            score=round(1.0 - hit.distance, 4),
            text=hit.text,
            doc_id=str(hit.metadata.get("doc_id", "")),
            kind=str(hit.metadata.get("kind", "")),
        )
        for hit in hits
        if hit.metadata.get("doc_id") in listed
    ]
