"""Split a document's pages into passages along its structure, so every citation is exact.

A passage never mixes two sections: a heading (a numbered section such as "3.2 Pointers", or a
short title line) starts a new one, and each passage carries the title of its section. List
items are kept whole, running text is cut at sentence ends, and a page break ends a passage,
except inside a sentence that continues on the next page: that passage keeps the sentence whole
and records where each page's text begins (`Chunk.spans`), so a citation can name the page
that holds the words the question asks about (`Chunk.page_for`). Page headers and footers that
repeat on most pages ("gnuplot 5.4 23") are left out.

Sizes are in words: ~120 words plus the title are well inside the 256-token window of
all-MiniLM-L6-v2 (longer input would be cut off silently).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

CHUNK_WORDS = 120
OVERLAP_WORDS = 30
TITLE_WORDS = 12  # the longest heading kept as a section title

_HYPHENATED_LINE_BREAK = re.compile(r"(\w)-\n(\w)")
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
# "8 Base modules", "A.1 Syntax", "3.2 Pointers", and a subsection may name a lower-case identifier ("8.26 graph",
# a module). "2. Generate ..." (one number and a dot) is a numbered list item, not a heading.
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:\d+|[A-Z]\.\d+(?:\.\d+)*)\s+[A-Z]|\d+(?:\.\d+)+\.?\s+(?:[A-Z]|[a-z][\w-]*(?:\s+\S+)?$))[^.!?]*$"
)
_LIST_ITEM = re.compile(r"^(?:[•◦▪●∗\-–*]|\d{1,2}[.)]|\([a-z0-9]\)|[a-z][.)])\s+\S")
_CODE_LIKE = re.compile(r"[=<>{}\[\]();$\\/#@|]|\.\w|_")
_DIGITS = re.compile(r"\d+")
_EDGE_NUMBERS = re.compile(r"^(\d+)\b|\b(\d+)$")
_ENDS_SENTENCE = re.compile(r"[.!?:;)\]\"”]$")


@dataclass(frozen=True)
class Chunk:
    page: int  # where most of its text is
    index: int  # position in the document, 0-based
    text: str
    section: str = ""  # title of the section it belongs to
    spans: tuple[tuple[int, int], ...] = ()  # (page, character offset in `text` where it starts), if >1 page

    @property
    def embedded_text(self) -> str:
        """What is embedded and indexed: the section title gives a passage its context."""
        return f"{self.section}: {self.text}" if self.section else self.text

    def page_for(self, matches: Callable[[str], int]) -> int:
        """The page whose part of the text `matches` scores highest (ties: the main page)."""
        if not self.spans:
            return self.page
        parts = [
            (page, self.text[start : self.spans[i + 1][1] if i + 1 < len(self.spans) else len(self.text)])
            for i, (page, start) in enumerate(self.spans)
        ]
        best_page, best = self.page, matches(dict(parts).get(self.page, ""))
        for page, part in parts:
            score = matches(part)
            if score > best:
                best_page, best = page, score
        return best_page


def encode_spans(spans: tuple[tuple[int, int], ...]) -> str:
    """`Chunk.spans` as Chroma metadata (a string: "9:0,10:355"; empty for a one-page chunk)."""
    return ",".join(f"{page}:{offset}" for page, offset in spans)


def decode_spans(encoded: str) -> tuple[tuple[int, int], ...]:
    pairs = (part.split(":") for part in encoded.split(",") if part)
    return tuple((int(page), int(offset)) for page, offset in pairs)


@dataclass
class _Unit:
    """A heading, a list item or a sentence, with the pages its words are on."""

    kind: str  # "heading", "item" or "text"
    words: list[str]
    pages: list[tuple[int, int]]  # (page, index of its first word in `words`)

    @property
    def page(self) -> int:
        return self.pages[0][0]


@dataclass
class _Passage:
    section: str
    units: list[_Unit] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(unit.words) for unit in self.units)


def chunk_pages(
    pages: Iterable[tuple[int, str]], *, chunk_words: int = CHUNK_WORDS, overlap_words: int = OVERLAP_WORDS
) -> list[Chunk]:
    """Passages of at most ~`chunk_words` words along headings, list items, sentences and pages."""
    if not 0 <= overlap_words < chunk_words:
        raise ValueError("overlap_words must be smaller than chunk_words")
    page_lines = [(number, _lines(text)) for number, text in pages]
    page_lines = _without_running_lines(page_lines)
    units = _units(page_lines, chunk_words, overlap_words)
    passages = _passages(units, chunk_words, overlap_words)
    return [_chunk(index, passage) for index, passage in enumerate(passages)]


def _lines(text: str) -> list[str]:
    text = _HYPHENATED_LINE_BREAK.sub(r"\1\2", unicodedata.normalize("NFKC", text))
    return [line for line in (_WHITESPACE.sub(" ", raw).strip() for raw in text.split("\n")) if line]


def _without_running_lines(pages: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """Drop the first/last lines that are running headers or footers.

    Two signs, each on 3+ pages and at least 1 in 20: the line repeats with only its digits changed
    ("gnuplot 5.4 23"), or it begins or ends with the printed page number, which runs a fixed offset
    from the page's position ("Chapter 3: Tutorial 12" on page 17, "Chapter 4: Drawing commands 19"
    on page 24: a chapter's title alone repeats too rarely in a short chapter).
    """
    if len(pages) < 3:
        return pages
    def shape(line: str) -> str:
        return _DIGITS.sub("#", line)
    def offsets(number: int, line: str) -> set[int]:
        return {number - int(digits) for match in _EDGE_NUMBERS.finditer(line) for digits in match.groups() if digits}
    edges = [(number, {*lines[:1], *lines[-1:]}) for number, lines in pages]
    least = max(3, len(pages) / 20)
    counts = Counter(shape(line) for _, lines in edges for line in lines)
    running = {key for key, count in counts.items() if count >= least}
    offset_counts = Counter(
        offset for number, lines in edges for offset in {found for line in lines for found in offsets(number, line)}
    )
    printed = {offset for offset, count in offset_counts.items() if count >= least}

    def is_running(number: int, line: str) -> bool:
        if shape(line) in running:
            return True
        return len(line.split()) <= TITLE_WORDS and not _LIST_ITEM.match(line) and bool(offsets(number, line) & printed)

    cleaned = []
    for number, lines in pages:
        if lines and is_running(number, lines[0]):
            lines = lines[1:]
        if lines and is_running(number, lines[-1]):
            lines = lines[:-1]
        cleaned.append((number, lines))
    return cleaned


def _is_heading(line: str, previous: str | None, following: str | None) -> bool:
    words = line.split()
    if not words or len(words) > TITLE_WORDS or _ENDS_SENTENCE.search(line):
        return False
    if _NUMBERED_HEADING.match(line):
        return True
    # An unnumbered title: short, capitalised, no code, between a finished sentence and a new one.
    return (
        len(words) <= 6
        and line[0].isupper()
        and not _CODE_LIKE.search(line)
        and (previous is None or bool(_ENDS_SENTENCE.search(previous)))
        and following is not None
        and following[:1].isupper()
    )


def _units(pages: list[tuple[int, list[str]]], chunk_words: int, overlap_words: int) -> list[_Unit]:
    """Headings, list items and sentences in reading order; a sentence may run onto the next page."""
    units: list[_Unit] = []
    open_text: _Unit | None = None  # running text whose last sentence may continue

    def flush() -> None:
        nonlocal open_text
        if open_text is not None:
            units.extend(_sentences(open_text, chunk_words, overlap_words))
            open_text = None

    previous: str | None = None
    for number, lines in pages:
        for position, line in enumerate(lines):
            words = line.split()
            following = lines[position + 1] if position + 1 < len(lines) else None
            if _is_heading(line, previous, following):
                flush()
                units.append(_Unit("heading", words, [(number, 0)]))
            elif _LIST_ITEM.match(line):
                flush()
                open_text = _Unit("item", words, [(number, 0)])
            elif open_text is None:
                open_text = _Unit("text", words, [(number, 0)])
            else:
                if open_text.pages[-1][0] != number:
                    open_text.pages.append((number, len(open_text.words)))
                open_text.words.extend(words)
            previous = line
        # A page break ends running text unless its last sentence is unfinished.
        if open_text is not None and _ENDS_SENTENCE.search(open_text.words[-1]):
            flush()
    flush()
    return units


def _sentences(unit: _Unit, chunk_words: int, overlap_words: int) -> list[_Unit]:
    """Running text cut at sentence ends (list items stay whole unless longer than a passage)."""
    pieces: list[list[str]] = []
    if unit.kind == "item" and len(unit.words) <= chunk_words:
        pieces = [unit.words]
    else:
        for sentence in _SENTENCE_END.split(" ".join(unit.words)):
            words = sentence.split()
            # A sentence longer than a passage (code, tables) is cut into overlap-sized pieces.
            limit = overlap_words or chunk_words
            pieces.extend(_cut(words, limit) if len(words) > chunk_words else [words] if words else [])
    result: list[_Unit] = []
    start = 0
    for words in pieces:
        end = start + len(words)
        pages = [(page, max(first - start, 0)) for i, (page, first) in enumerate(unit.pages)
                 if first < end and (i + 1 == len(unit.pages) or unit.pages[i + 1][1] > start)]
        result.append(_Unit(unit.kind, words, pages))
        start = end
    return result


def _cut(words: list[str], limit: int) -> list[list[str]]:
    return [words[start : start + limit] for start in range(0, len(words), limit)]


def _passages(units: Sequence[_Unit], chunk_words: int, overlap_words: int) -> list[_Passage]:
    passages: list[_Passage] = []
    section = ""
    current = _Passage(section)
    fresh = 0  # words of `current` not yet in an earlier passage (the rest is overlap)

    def close(keep_overlap: bool) -> None:
        nonlocal current, fresh
        if fresh:
            passages.append(current)
        tail = _overlap_tail(current.units, overlap_words) if keep_overlap and fresh else []
        current, fresh = _Passage(section, tail), 0

    for unit in units:
        if unit.kind == "heading":
            close(keep_overlap=False)
            section = " ".join(unit.words)
            current = _Passage(section)
            continue
        if current.units and current.units[-1].pages[-1][0] != unit.page:
            close(keep_overlap=False)  # a new page starts a new passage
        elif fresh and current.size + len(unit.words) > chunk_words:
            close(keep_overlap=True)
            while current.units and current.size + len(unit.words) > chunk_words:
                current.units.pop(0)
        current.units.append(unit)
        fresh += len(unit.words)
    close(keep_overlap=False)
    return passages


def _overlap_tail(units: list[_Unit], overlap_words: int) -> list[_Unit]:
    """The last whole units of a passage, up to `overlap_words`, to start the next one with."""
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(units):
        if size + len(unit.words) > overlap_words:
            break
        tail.insert(0, unit)
        size += len(unit.words)
    return tail


def _chunk(index: int, passage: _Passage) -> Chunk:
    words: list[str] = []
    spans: list[tuple[int, int]] = []  # (page, word offset)
    for unit in passage.units:
        for page, first in unit.pages:
            if not spans or spans[-1][0] != page:
                spans.append((page, len(words) + first))
        words.extend(unit.words)
    text = " ".join(words)
    sizes = Counter()
    for i, (page, first) in enumerate(spans):
        sizes[page] += (spans[i + 1][1] if i + 1 < len(spans) else len(words)) - first
    main_page = sizes.most_common(1)[0][0]
    if len(spans) == 1:
        return Chunk(main_page, index, text, passage.section)
    offsets = tuple((page, len(" ".join(words[:first])) + (1 if first else 0)) for page, first in spans)
    return Chunk(main_page, index, text, passage.section, offsets)
