"""How a fallback continues an answer another model left cut off, and how the two parts are joined.

The fallback gets the conversation, the partial answer as an assistant turn, and a user
turn asking it to carry on from exactly where it stopped. Pure assistant-prefix
continuation would be neater, but the OpenAI chat API does not support prefill and
Gemini and small local models honour it unevenly, while an explicit instruction works
the same on all four providers.

Small models sometimes repeat that instruction (often reworded) before continuing, or
instead of it; `Seam` keeps such sentences out of the answer, and puts a short visible
marker where the other model took over, so a reader (chat or API) knows the text
after it was written by another model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from router.types import ChatMessage

CONTINUE_INSTRUCTION = (
    "Your previous answer was cut off by a technical problem. Continue it from exactly where it "
    "stopped, without repeating anything and without mentioning the interruption."
)
SEAM_MARKER = "[… continued by {label}] "

_INSTRUCTION_WORDS = frozenset(re.findall(r"[a-z]+", CONTINUE_INSTRUCTION.lower()))
#: A sentence ends at . ! ? followed by white space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def continuation_messages(messages: Sequence[ChatMessage], partial: str) -> list[ChatMessage]:
    """The conversation a fallback gets to finish `partial`."""
    return [*messages, ChatMessage("assistant", partial), ChatMessage("user", CONTINUE_INSTRUCTION)]


def echoes_instruction(sentence: str) -> bool:
    """Does `sentence` repeat the instruction? Most of its words, and three of its longer ones, are the instruction's.

    Longer words (five letters or more) carry the meaning; a sentence that merely shares
    short words ("and it was a problem") is the model's own.
    """
    words = re.findall(r"[a-z]+", sentence.lower())
    shared = [word for word in words if word in _INSTRUCTION_WORDS]
    return len({word for word in shared if len(word) >= 5}) >= 3 and len(shared) >= 0.6 * len(words)


class Seam:
    """The text of one continuation as it should be shown: the marker first, echoed instruction sentences dropped.

    The start is held back until its first sentence is complete (or the continuation ends,
    or it grew too long to be an echo); from the first sentence that is not an echo on,
    text passes through unchanged.
    """

    def __init__(self, label: str, partial: str) -> None:
        self._marker = ("" if partial[-1:].isspace() else " ") + SEAM_MARKER.format(label=label)
        self._held: str | None = ""  # None once the start has been judged and shown

    def feed(self, text: str) -> str:
        """What of `text` (and of the start held so far) can be shown now."""
        if self._held is None:
            return text
        self._held += text
        while (end := _SENTENCE_END.search(self._held)) and echoes_instruction(self._held[: end.end()]):
            self._held = self._held[end.end():].lstrip()
        if end is None and len(self._held) <= len(CONTINUE_INSTRUCTION):
            return ""
        return self._release()

    def end(self) -> str:
        """At the end of the continuation: what is still held back, unless it too is an echo."""
        if self._held is None:
            return ""
        if echoes_instruction(self._held):
            self._held = ""
        return self._release()

    def _release(self) -> str:
        shown, self._held = self._marker + self._held, None
        return shown
