"""Value types that cross the router's seams: messages in, chunks and usage out.

They are plain dataclasses with no Chainlit, database or SDK types in them, so the
app, the CLI, notebooks and tests all speak the same small language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Role = Literal["system", "user", "assistant"]
Kind = Literal["local", "cloud"]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation, in the order the model should see it."""

    role: Role
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """What to generate and how. `model` is the provider's own model name."""

    model: str
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float | None = None
    seed: int | None = None


@dataclass
class Usage:
    """Token counts of one call, as reported by the provider."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer, to be shown as soon as it arrives."""

    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The last chunk of every successful stream: why it stopped and what it cost."""

    usage: Usage
    finish_reason: str = "stop"


Chunk = Union[TextDelta, StreamEnd]


@dataclass(frozen=True)
class Health:
    """Whether a backend can take requests now, and if not, why (shown to users)."""

    available: bool
    reason: str = ""
    models: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Notice:
    """Something the user should read inline, e.g. that the answer continues on a fallback model."""

    text: str


@dataclass(frozen=True)
class Queued:
    """The answer waits for a free slot of `model` (its label): `place` 1 is next, `estimate_s` None: unknown yet.

    Sent when the request joins the line and each time it moves up; waiting is not a failure.
    """

    place: int
    estimate_s: float | None
    model: str


@dataclass(frozen=True)
class CallRecord:
    """Accounting of one answer, returned with the end of the router's stream."""

    backend: str
    model_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    ttft_s: float | None
    total_s: float
    finish_reason: str = "stop"
    retries: int = 0
    fallbacks: tuple[str, ...] = ()
    #: Catalog ids of the models whose text is in the answer, in order (two after a mid-answer fallback).
    models: tuple[str, ...] = ()
    message_count: int = 0
    #: Why the answer is missing or incomplete (safe to show); empty when it finished.
    error: str = ""
    #: Every model tried refused the request itself (too long, invalid text) before any answer:
    #: the caller's to fix (the API answers 400), not a failure of the backends.
    request_rejected: bool = False
    #: Seconds spent waiting in backends' lines for a free slot (included in `ttft_s` and `total_s`).
    queued_s: float = 0.0


@dataclass(frozen=True)
class Completed:
    """The last event of `Router.stream`: the answer is complete (or stopped) and accounted for."""

    record: CallRecord


RouterEvent = Union[TextDelta, Notice, Queued, Completed]
