"""`RepetitionGuard`: stop an answer that has begun to loop, before the loop is shown.

Small local models loop: the same line again and again, or the same few words over and
over inside one line. The guard reads the answer as it streams and releases only text
that does not repeat:

- a line (three or more words, outside code blocks) that was already said is held back
  while it is being written and never shown: the answer stops there;
- the same eight words a third time are held back as they come and never shown: the
  answer stops after the second.

A loop is what `is_looping` calls one: a line said twice, or eight words said three times.
The same definition measures the models (bench/bench_looping.py) and guards every answer.
"""

from __future__ import annotations

import re
from collections import Counter

#: A line needs this many words to count: "Yes." or "---" may repeat in a good answer.
MIN_LINE_WORDS = 3
#: The same this-many words ...
NGRAM_WORDS = 8
#: ... this many times is a loop.
NGRAM_REPEATS = 3

_LIST_MARKER = re.compile(r"^\s*(?:[-*•>]+|\d+[.)]|[a-z][.)])\s+", re.IGNORECASE)
#: The start of a line that may still become a list marker ("2", "2.", "-").
_MARKER_SO_FAR = re.compile(r"\s*(?:[-*•>]+|\d+[.)]?|[a-z][.)]?)?\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w")


def _normalised_line(line: str) -> str:
    """A line as compared: no list marker or number ("2. Foo" repeats "1. Foo"), case and spacing folded."""
    return _SPACES.sub(" ", _LIST_MARKER.sub("", line)).strip().lower()


def _word_count(normalised: str) -> int:
    return sum(1 for word in normalised.split(" ") if _WORDLIKE.search(word))


class RepetitionGuard:
    """Feed it the answer's text as it streams; show what `feed` returns, then what `finish` returns."""

    def __init__(self) -> None:
        self.looping = False
        self._loop_start = 0  # where the loop begins: nothing from here on is shown
        self._text = ""
        self._shown = 0  # how much of `_text` was released
        self._line_start = 0
        self._in_code = False
        self._lines: set[str] = set()  # normalised lines already said
        self._word_start: int | None = None
        self._recent_words: list[str] = []
        self._recent_starts: list[int] = []
        self._ngrams: Counter[tuple[str, ...]] = Counter()
        self._said_twice: set[tuple[str, ...]] = set()  # the beginnings of every n-gram said twice

    def feed(self, text: str) -> str:
        """The part of the answer that is safe to show now ('' once looping)."""
        if self.looping:
            return ""
        start = len(self._text)
        self._text += text
        for index in range(start, len(self._text)):
            char = self._text[index]
            if char.isspace():
                self._end_word(index)
            elif self._word_start is None:
                self._word_start = index
            if char == "\n" and not self.looping:
                self._end_line(index)
            if self.looping:
                return self._release(self._loop_start)
        return self._release(self._safe_end())

    def finish(self) -> str:
        """What was held back at the end of the answer (a last line is compared like the others)."""
        if self.looping:
            return ""
        end = len(self._text)
        self._end_word(end)
        if not self.looping:
            self._end_line(end)
        return self._release(self._loop_start if self.looping else end)

    def _release(self, end: int) -> str:
        end = max(end, self._shown)
        released, self._shown = self._text[self._shown:end], end
        return released

    def _safe_end(self) -> int:
        """Hold back words that may begin an n-gram's third time, and an unfinished line that so far
        repeats an earlier one; release the rest at once (a held word would delay every token)."""
        end = len(self._text)
        for size in range(min(len(self._recent_words), NGRAM_WORDS - 1), 0, -1):
            if tuple(self._recent_words[-size:]) in self._said_twice:
                end = min(end, self._recent_starts[-size])
                break
        else:
            if self._word_start is not None:
                partial = self._text[self._word_start:].lower()
                if any(gram[0].startswith(partial) for gram in self._said_twice if len(gram) == 1):
                    end = min(end, self._word_start)
        if not self._in_code:
            written = self._text[self._line_start:]
            partial = _normalised_line(written)
            if _MARKER_SO_FAR.fullmatch(written) or any(line.startswith(partial) for line in self._lines):
                end = min(end, self._line_start)
        return end

    def _end_word(self, end: int) -> None:
        if self._word_start is None:
            return
        word = self._text[self._word_start:end].lower()
        self._recent_starts = [*self._recent_starts[-(NGRAM_WORDS - 1):], self._word_start]
        self._recent_words = [*self._recent_words[-(NGRAM_WORDS - 1):], word]
        self._word_start = None
        if len(self._recent_words) == NGRAM_WORDS:
            gram = tuple(self._recent_words)
            self._ngrams[gram] += 1
            if self._ngrams[gram] == NGRAM_REPEATS - 1:
                self._said_twice.update(gram[:size] for size in range(1, NGRAM_WORDS))
            elif self._ngrams[gram] >= NGRAM_REPEATS:
                self.looping, self._loop_start = True, self._recent_starts[0]

    def _end_line(self, end: int) -> None:
        line_start, line = self._line_start, self._text[self._line_start:end]
        self._line_start = end + 1
        if line.lstrip().startswith("```"):
            self._in_code = not self._in_code
            return
        normalised = _normalised_line(line)
        if self._in_code or _word_count(normalised) < MIN_LINE_WORDS:
            return
        if normalised in self._lines:
            self.looping, self._loop_start = True, line_start
        self._lines.add(normalised)


def is_looping(text: str) -> bool:
    """Whether a finished answer loops: a line said twice, or the same eight words three times."""
    guard = RepetitionGuard()
    guard.feed(text)
    guard.finish()
    return guard.looping
