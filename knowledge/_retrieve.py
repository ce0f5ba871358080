"""Question -> the most relevant passages of a project, with the document and page to cite.

Hybrid: the nearest chunks by vector (all-MiniLM-L6-v2) and the best chunks by keywords (BM25)
are fused by weighted reciprocal rank fusion, and the fused ranking gives at most one passage per
page (its best), so the `k` passages cover `k` pages. The keyword ranking counts in proportion to how
much of the question its first passage holds: when the question's rare words are not in the manual
(it says "mirror", the manual "reflect"), BM25 ranks passages by the common words alone and the
vectors, which match meaning, lead. A follow-up question ("and on Sundays?") is also
searched together with the conversation's previous question (`context`), at a lower weight, so
it finds what it refers to while a new topic still wins on its own words. A question that names a
PDF ("in gnuplot, ...") is searched by vector without the name, and the passages of the documents
it does not name count less in the fusion (`_naming` says why). The fusion was chosen
by cross-validation across the question files of bench/retrieval_set (see the README).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from embedding import Embedder
from knowledge._chunking import Chunk, decode_spans
from knowledge._keywords import ProjectKeywords, terms
from knowledge._naming import name_terms, named_documents, without_names
from knowledge._store import KIND_PDF, ProjectStore, StoredChunk, document_of

#: Candidates taken from each ranking before fusion.
DEPTH = 40
#: Reciprocal rank fusion: a ranking contributes weight / (RRF_K + rank). A small k lets the first
#: passages of either ranking count most, so a page only one side finds first is not outranked by
#: pages both put in the middle (k 10 -> 3 raised hybrid recall@5 and MRR on both question files).
RRF_K = 3
VECTOR_WEIGHT = 1.0
#: At most; times the share of the question (words weighted by rarity) the first keyword hit holds.
KEYWORD_WEIGHT = 1.3
#: Fusion weight of the passages of the documents a question does not name, when it names some (`_naming`):
#: 0.5 and 0 (none of them) gave the same recall@5 on bench/retrieval_set; a half keeps a passage that
#: stands out elsewhere within reach.
UNNAMED_WEIGHT = 0.5
#: The question together with the previous one, against the question alone. With fusion k 3 the
#: question's own first passages weigh more, so the previous turn needs more than half weight (0.5)
#: to bring a follow-up ("and on Sundays?") back to its topic.
CONTEXT_WEIGHT = 0.7
#: The share of a question's (stemmed, stop words aside) words that one of its passages must hold to
#: count as relevant by keywords alone, whatever the cosine similarity (`min_score`). On the tuning
#: part: every answerable question had a passage with >= 0.75 or a cosine >= 0.4; no unrelated
#: question more than 0.4 and 0.35.
MIN_KEYWORD_COVERAGE = 0.6

MODES = ("hybrid", "vector", "keyword")


@dataclass(frozen=True)
class Passage:
    document: str  # file name (or artifact title)
    page: int | None  # 1-based; None for saved answers
    score: float  # cosine similarity to the question in [-1, 1]; higher is more relevant
    text: str
    doc_id: str
    kind: str  # "pdf" or "artifact"
    section: str = ""  # title of the section the passage is in, if the document has headings

    @property
    def citation(self) -> str:
        return f"{self.document}, p. {self.page}" if self.page else self.document


def retrieve(
    store: ProjectStore,
    embedder: Embedder,
    keywords: ProjectKeywords,
    question: str,
    *,
    k: int,
    min_score: float,
    context: str = "",
    mode: str = "hybrid",
) -> list[Passage]:
    """At most `k` passages, best first; empty means "nothing relevant".

    A passage is relevant when its cosine similarity is at least `min_score` or it holds most of
    the question's words (`MIN_KEYWORD_COVERAGE`). Only documents listed in the manifest count
    (an interrupted ingestion leaves chunks that are not).
    """
    listed = store.listed()
    keywords.sync({doc_id: document.chunks for doc_id, document in listed.items()}, store.keyword_entries)
    if not question.strip() or not listed or k <= 0:
        return []
    depth = max(DEPTH, k)
    names = {doc_id: name_terms(document.document) for doc_id, document in listed.items() if document.kind == KIND_PDF}
    named = named_documents(question, names)
    searched = frozenset().union(*(names[doc_id] for doc_id in named))  # the vectors search without the names
    queries = [without_names(question, searched)]
    if context.strip():
        queries.append(without_names(f"{context}\n{question}", searched))
    rankings: list[tuple[float, list[str]]] = []
    found: dict[str, tuple[StoredChunk, float]] = {}  # chunk id -> chunk, cosine similarity
    vectors = embedder.embed(queries) if mode != "keyword" else np.zeros((0, 0), dtype=np.float32)
    for vector, weight in zip(vectors, (VECTOR_WEIGHT, VECTOR_WEIGHT * CONTEXT_WEIGHT)):
        ranking = []
        for hit in store.nearest(vector, depth):
            if hit.metadata.get("doc_id") in listed:
                ranking.append(hit.id)
                similarity = 1.0 - hit.distance
                if hit.id not in found or found[hit.id][1] < similarity:
                    found[hit.id] = (StoredChunk(hit.id, hit.text, hit.metadata), similarity)
        rankings.append((weight, ranking))
    query_terms = _weighted_terms(question, context)
    if mode != "vector":
        hits = keywords.search(query_terms, depth)
        trust = keywords.matched_share(query_terms, hits[0][0]) if hits else 1.0
        rankings.append((KEYWORD_WEIGHT * trust, [chunk_id for chunk_id, _ in hits]))
    query_vectors = functools.cache(lambda: vectors if len(vectors) else embedder.embed(queries))
    chosen = _one_per_page(_fuse(rankings, named), found, keywords, store, query_vectors, set(terms(question)), k)
    return [
        passage for passage, chunk, similarity in chosen
        if similarity >= min_score or (mode != "vector" and _coverage(query_terms, chunk) >= MIN_KEYWORD_COVERAGE)
    ]


def _one_per_page(
    fused: list[str],
    found: dict[str, tuple[StoredChunk, float]],
    keywords: ProjectKeywords,
    store: ProjectStore,
    query_vectors: Callable[[], np.ndarray],
    question_terms: set[str],
    k: int,
) -> list[tuple[Passage, StoredChunk, float]]:
    """The first `k` passages of the fused ranking that cite distinct pages (a page's best passage only).

    Passages of one page overlap and say much the same, so a second one would push out another
    page that may hold the answer: on bench/retrieval_set this raised hybrid recall@5 on both parts
    and needs no parameter. A candidate's page is known without reading it from the store when the
    vector search returned it or when it lies on one page (the keyword index knows that page); only a
    keyword hit over a page break is read first (the question's words choose its page). So usually
    one read (with vectors, for the cosine similarity) fetches just the chosen chunks the vector
    search did not return: at 100k chunks, reading every candidate up to the k-th page cost ~13 ms.
    """
    known_pages = keywords.pages(chunk_id for chunk_id in fused if chunk_id not in found)
    gone: set[str] = set()  # keyword hits no longer in the store (removed since the index was synced)

    def read(chunk_ids: list[str]) -> None:
        missing = [chunk_id for chunk_id in dict.fromkeys(chunk_ids) if chunk_id not in found and chunk_id not in gone]
        if missing:
            vectors = query_vectors()
            for chunk_id, (chunk, vector) in store.chunks(missing).items():
                found[chunk_id] = (chunk, float(np.max(vectors @ vector)))
            gone.update(chunk_id for chunk_id in missing if chunk_id not in found)

    def page_of(chunk_id: str) -> tuple[str, int] | str:  # a saved answer has no pages: it is its own "page"
        if chunk_id in found:
            passage = _passage(*found[chunk_id], question_terms)
            return (passage.doc_id, passage.page) if passage.page else chunk_id
        doc_id, page = known_pages[chunk_id]
        return (doc_id, page) if page else chunk_id

    while True:
        chosen: list[str] = []
        cited: set[tuple[str, int] | str] = set()
        for position, chunk_id in enumerate(fused):
            if chunk_id not in found and chunk_id not in known_pages:  # with the next candidates, in one read
                read([*(chosen_id for chosen_id in chosen if chosen_id not in found), *fused[position : position + 2 * k]])
            if chunk_id in gone:
                continue
            page = page_of(chunk_id)
            if page not in cited:
                cited.add(page)
                chosen.append(chunk_id)
                if len(chosen) == k:
                    break
        read(chosen)
        if all(chunk_id in found for chunk_id in chosen):  # else a chosen one was gone: choose again without it
            return [(_passage(*found[chunk_id], question_terms), *found[chunk_id]) for chunk_id in chosen]


def _weighted_terms(question: str, context: str) -> dict[str, float]:
    weighted = dict.fromkeys(terms(question), 1.0)
    for term in terms(context):
        weighted.setdefault(term, CONTEXT_WEIGHT)
    return weighted


def _fuse(rankings: Sequence[tuple[float, list[str]]], named: Collection[str] = ()) -> list[str]:
    """Weighted reciprocal rank fusion of several rankings of chunk ids, best first.

    When the question names documents (`named`, doc ids), the others' passages count `UNNAMED_WEIGHT`.
    """
    scores: dict[str, float] = {}
    for weight, ranking in rankings:
        for rank, chunk_id in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    if named:
        for chunk_id in scores:
            if document_of(chunk_id) not in named:
                scores[chunk_id] *= UNNAMED_WEIGHT
    return sorted(scores, key=lambda chunk_id: -scores[chunk_id])


def _coverage(query_terms: dict[str, float], chunk: StoredChunk) -> float:
    """Share of the question's words (weighted) that the chunk contains."""
    total = sum(query_terms.values())
    if not total:
        return 0.0
    present = set(str(chunk.metadata.get("terms", "")).split())
    return sum(weight for term, weight in query_terms.items() if term in present) / total


def _passage(chunk: StoredChunk, similarity: float, question_terms: set[str]) -> Passage:
    meta = chunk.metadata
    page = int(meta.get("page", 0)) or None
    spans = decode_spans(str(meta.get("spans", "")))
    if page and spans:  # a passage over a page break cites the page with the question's words
        page = Chunk(page, 0, chunk.text, spans=spans).page_for(lambda part: len(question_terms & set(terms(part))))
    return Passage(
        document=str(meta.get("document", "")),
        page=page,
        score=round(similarity, 4),
        text=chunk.text,
        doc_id=str(meta.get("doc_id", "")),
        kind=str(meta.get("kind", "")),
        section=str(meta.get("section", "")),
    )
