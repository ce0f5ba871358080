"""The keyword (BM25) side of retrieval: terms of a text, and an in-memory index updated by document.

The index's lasting form is the `terms` field of every chunk stored in Chroma (written once, at
ingestion, beside the chunk's vector, and deleted with it), so it lives wherever the vectors
live: the embedded folder or the Chroma server every app instance shares. Each process keeps a
`KeywordIndex` per project in memory and brings it up to date by whole documents when the
project's document list changes (`ProjectKeywords.sync`): never rebuilt per query. It also knows
the page each chunk cites (read with the terms, from the chunk's stored `page`), so retrieval can
keep one passage per page without reading the candidates from Chroma first, and how much of a
question a chunk's words cover (`matched_share`), so retrieval can tell how far to trust the ranking.

Why not bm25s or tantivy as the index: bm25s builds one static matrix over a whole corpus (no
adding or deleting a document), and tantivy keeps its index in a local folder that other
instances cannot read. Scoring is Lucene's BM25 (k1=1.2, b=0.3) over Snowball stems (PyStemmer).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import Stemmer

K1 = 1.2
#: Length normalisation, milder than Lucene's 0.75: a passage is cut to ~120 words anyway, so a longer one
#: is rarely longer for being verbose. With the section title counted twice (`indexed_terms`), it
#: raised hybrid recall@5 on both question files of bench/retrieval_set (see README, *Retrieval*).
B = 0.3

_TOKEN = re.compile(r"[a-z0-9]+")
# Function words and the words questions are phrased with: they match everything, so say nothing.
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both but by
    can could did do does doing done down during each either else few for from further get gets had has have
    having he her here hers him his how i if in into is it its itself just let me might more most must my no
    nor not now of off on once only or other our ours out over own same shall she should so some such than that
    the their theirs them then there these they this those through to too under until up us very was way we
    were what when where whether which while who whom whose why will with within without would yes yet you
    your yours""".split()
)
_stemmer = Stemmer.Stemmer("english")
_stem_lock = threading.Lock()  # a PyStemmer object is not thread-safe


def terms(text: str) -> list[str]:
    """Lower-cased, stop words dropped, Snowball-stemmed: the same for chunks and questions."""
    words = [word for word in _TOKEN.findall(text.lower()) if word not in STOPWORDS]
    with _stem_lock:
        return _stemmer.stemWords(words)


def indexed_terms(section: str, text: str) -> list[str]:
    """What a passage is found by: its section title's terms twice, then its text's.

    A title names what the passage is about in a few words (the field boost of search engines), while
    the text may mention the same word in passing.
    """
    title = terms(section)
    return title + title + terms(text)


@dataclass
class _Document:
    chunk_ids: list[str]
    lengths: np.ndarray  # terms per chunk
    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # term -> (chunk positions, term frequencies)


#: One chunk as the index holds it: id, terms, and the page it cites whatever the question (0: a
#: document without pages; None: the chunk spans a page break, so the question decides its page).
Entry = tuple[str, list[str], int | None]


@dataclass
class KeywordIndex:
    """BM25 over the chunks of one project, with documents added and removed whole."""

    _documents: dict[str, _Document] = field(default_factory=dict)
    _document_frequency: Counter = field(default_factory=Counter)
    _holders: dict[str, set[str]] = field(default_factory=dict)  # term -> documents containing it
    # chunk id -> (doc id, position in its document, page it cites or None if the chunk spans pages)
    _chunk_places: dict[str, tuple[str, int, int | None]] = field(default_factory=dict)
    _chunks: int = 0
    _total_length: int = 0

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._documents

    @property
    def doc_ids(self) -> set[str]:
        return set(self._documents)

    def add(self, doc_id: str, chunks: Iterable[Entry]) -> None:
        """Index a document given as (chunk id, terms, page) entries; a document already indexed is replaced."""
        self.remove(doc_id)
        chunk_ids: list[str] = []
        lengths: list[int] = []
        positions: dict[str, list[int]] = {}
        frequencies: dict[str, list[int]] = {}
        for position, (chunk_id, chunk_terms, page) in enumerate(chunks):
            chunk_ids.append(chunk_id)
            self._chunk_places[chunk_id] = (doc_id, position, page)
            lengths.append(len(chunk_terms))
            for term, count in Counter(chunk_terms).items():
                positions.setdefault(term, []).append(position)
                frequencies.setdefault(term, []).append(count)
        postings = {
            term: (np.array(positions[term], dtype=np.int32), np.array(frequencies[term], dtype=np.float32))
            for term in positions
        }
        self._documents[doc_id] = _Document(chunk_ids, np.array(lengths, dtype=np.float32), postings)
        for term, (where, _) in postings.items():
            self._document_frequency[term] += len(where)
            self._holders.setdefault(term, set()).add(doc_id)
        self._chunks += len(chunk_ids)
        self._total_length += int(sum(lengths))

    def remove(self, doc_id: str) -> None:
        document = self._documents.pop(doc_id, None)
        if document is None:
            return
        for term, (where, _) in document.postings.items():
            self._document_frequency[term] -= len(where)
            if self._document_frequency[term] <= 0:
                del self._document_frequency[term]
            holders = self._holders[term]
            holders.discard(doc_id)
            if not holders:
                del self._holders[term]
        for chunk_id in document.chunk_ids:
            self._chunk_places.pop(chunk_id, None)
        self._chunks -= len(document.chunk_ids)
        self._total_length -= int(document.lengths.sum())

    def page(self, chunk_id: str) -> tuple[str, int] | None:
        """(doc id, page) an indexed chunk cites whatever the question (page 0: none); None if it spans pages or is unknown."""
        place = self._chunk_places.get(chunk_id)
        return (place[0], place[2]) if place is not None and place[2] is not None else None

    def idf(self, term: str) -> float:
        """Lucene's BM25 inverse document frequency (a term no chunk holds gets the highest)."""
        frequency = self._document_frequency.get(term, 0)
        return math.log(1 + (self._chunks - frequency + 0.5) / (frequency + 0.5))

    def matched_share(self, weighted_terms: dict[str, float], chunk_id: str) -> float:
        """Share of the query's terms, weighted by their weight and rarity (idf), that the chunk holds.

        A question's rare words say most about it; a first hit that holds none of them (the question
        says "mirror", the manual "reflect") matched only its common words.
        """
        place = self._chunk_places.get(chunk_id)
        total = sum(weight * self.idf(term) for term, weight in weighted_terms.items())
        if place is None or total <= 0:
            return 0.0
        doc_id, position, _ = place
        postings = self._documents[doc_id].postings
        held = 0.0
        for term, weight in weighted_terms.items():
            where = postings[term][0] if term in postings else ()  # chunk positions, ascending
            found = int(np.searchsorted(where, position))
            if found < len(where) and where[found] == position:
                held += weight * self.idf(term)
        return held / total

    def search(self, weighted_terms: dict[str, float], k: int) -> list[tuple[str, float]]:
        """The `k` best (chunk id, BM25 score) pairs for query terms with their weights, best first."""
        if not self._chunks or k <= 0:
            return []
        average_length = max(self._total_length / self._chunks, 1.0)
        scores: dict[str, np.ndarray] = {}
        for term, weight in weighted_terms.items():
            if term not in self._document_frequency:
                continue
            idf = self.idf(term)
            for doc_id in self._holders[term]:
                document = self._documents[doc_id]
                where, tf = document.postings[term]
                norm = K1 * (1 - B + B * document.lengths[where] / average_length)
                total = scores.get(doc_id)
                if total is None:
                    total = scores[doc_id] = np.zeros(len(document.chunk_ids), dtype=np.float32)
                total[where] += weight * idf * tf * (K1 + 1) / (tf + norm)
        best: list[tuple[str, float]] = []
        for doc_id, total in scores.items():
            top = np.argpartition(-total, min(k, len(total)) - 1)[:k] if len(total) > k else np.arange(len(total))
            chunk_ids = self._documents[doc_id].chunk_ids
            best.extend((chunk_ids[i], float(total[i])) for i in top if total[i] > 0)
        best.sort(key=lambda hit: -hit[1])
        return best[:k]


class ProjectKeywords:
    """One project's `KeywordIndex`, kept in step with the documents listed in the store."""

    def __init__(self) -> None:
        self.index = KeywordIndex()
        self._lock = threading.Lock()

    def sync(self, listed: dict[str, int], load: Callable[[str, int], list[Entry]]) -> None:
        """Add the listed documents (doc id -> chunk count) not yet indexed, drop those no longer listed.

        `load(doc_id, chunks)` reads a document's stored (chunk id, terms, page) entries.
        """
        with self._lock:
            for doc_id in self.index.doc_ids - set(listed):
                self.index.remove(doc_id)
            for doc_id, chunks in listed.items():
                if doc_id not in self.index:
                    self.index.add(doc_id, load(doc_id, chunks))

    def search(self, weighted_terms: dict[str, float], k: int) -> list[tuple[str, float]]:
        with self._lock:
            return self.index.search(weighted_terms, k)

    def matched_share(self, weighted_terms: dict[str, float], chunk_id: str) -> float:
        with self._lock:
            return self.index.matched_share(weighted_terms, chunk_id)

    def pages(self, chunk_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """(doc id, page) each of these chunks cites whatever the question, for those that lie on one page."""
        with self._lock:
            return {chunk_id: page for chunk_id in chunk_ids if (page := self.index.page(chunk_id)) is not None}
