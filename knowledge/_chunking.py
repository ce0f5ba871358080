"""Split page texts into overlapping passages that never cross a page, so every citation is exact.

Sizes are in words: ~150 words are ~200 WordPiece tokens of English prose, inside the
256-token window of all-MiniLM-L6-v2 (longer input would be cut off silently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK_WORDS = 150
OVERLAP_WORDS = 30

_HYPHENATED_LINE_BREAK = re.compile(r"(\w)-\n(\w)")
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


@dataclass(frozen=True)
class Chunk:
    page: int
    index: int  # position in the document, 0-based
    text: str


def normalise(text: str) -> str:
    """Join words hyphenated across lines and collapse whitespace."""
    return _WHITESPACE.sub(" ", _HYPHENATED_LINE_BREAK.sub(r"\1\2", text)).strip()


def chunk_pages(
    pages: Iterable[tuple[int, str]], *, chunk_words: int = CHUNK_WORDS, overlap_words: int = OVERLAP_WORDS
) -> list[Chunk]:
    """Chunks of whole sentences, each within one page, consecutive ones sharing ~`overlap_words`."""
    if not 0 <= overlap_words < chunk_words:
        raise ValueError("overlap_words must be smaller than chunk_words")
    chunks: list[Chunk] = []
    for page, text in pages:
        for passage in _page_passages(normalise(text), chunk_words, overlap_words):
            chunks.append(Chunk(page, len(chunks), passage))
    return chunks


def _page_passages(text: str, chunk_words: int, overlap_words: int) -> list[str]:
    # A sentence longer than a chunk (code, tables, run-on text) is cut into overlap-sized
    # pieces, so consecutive chunks of it still overlap.
    piece_limit = overlap_words or chunk_words
    pieces: list[list[str]] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        pieces.extend(_cut(words, piece_limit) if len(words) > chunk_words else [words] if words else [])
    passages: list[str] = []
    current: list[list[str]] = []
    size = fresh = 0  # `fresh`: words not yet in any passage (the rest is overlap)
    for words in pieces:
        if fresh and size + len(words) > chunk_words:
            passages.append(_join(current))
            current, size = _overlap_tail(current, min(overlap_words, chunk_words - len(words)))
            fresh = 0
        current.append(words)
        size += len(words)
        fresh += len(words)
    if fresh:
        passages.append(_join(current))
    return passages


def _join(pieces: list[list[str]]) -> str:
    return " ".join(word for piece in pieces for word in piece)


def _cut(words: list[str], limit: int) -> list[list[str]]:
    return [words[start : start + limit] for start in range(0, len(words), limit)]


def _overlap_tail(pieces: list[list[str]], overlap_words: int) -> tuple[list[list[str]], int]:
    """The last whole sentences of a passage, up to `overlap_words`, to start the next one with."""
    tail: list[list[str]] = []
    size = 0
    for piece in reversed(pieces):
        if size + len(piece) > overlap_words:
            break
        tail.insert(0, piece)
        size += len(piece)
    return tail, size
