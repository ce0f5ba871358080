"""Build what a model sees: a system prompt for the assistant mode, then the turns that fit.

The app keeps the whole conversation; each request sends the newest turns that fit in
the chosen model's context window (oldest turns are dropped first, the system prompt and
the new message always stay). The API trims a client's conversation the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import takewhile

from router.tokens import estimate_tokens
from router.types import ChatMessage

GENERAL_MODE = "general"
ENGLISH_PRACTICE_MODE = "english-practice"

SYSTEM_PROMPTS = {
    GENERAL_MODE: (
        "You are Hybrid Chat, a helpful, honest and concise assistant. "
        "Answer in the language the user writes in. If you are not sure, say so."
    ),
    ENGLISH_PRACTICE_MODE: (
        "You are an English tutor. For every message the user writes:\n"
        "1. Point out each language error (grammar, spelling, word choice) and show the corrected sentence.\n"
        "2. Suggest better or more natural words and phrases, briefly saying why.\n"
        "3. Give one short tip on usage the user can remember.\n"
        "Then reply to what the user said, in simple, correct English. Be encouraging and brief."
    ),
}

# Role markers and separators each message adds. Over-estimating only drops an old turn
# early; under-estimating would overflow the model.
_PER_MESSAGE_OVERHEAD = 8


def message_tokens(message: ChatMessage) -> int:
    """The tokens `message` takes in a prompt, its role markers included (an over-estimate)."""
    return estimate_tokens(message.content) + _PER_MESSAGE_OVERHEAD


def numbered_sources(sources: Sequence[tuple[str, str]]) -> str:
    """Excerpts `(citation, text)` as a model sees them: "[1] (guide.pdf, p. 3)\ntext", a blank line apart."""
    return "\n\n".join(f"[{i}] ({citation})\n{text}" for i, (citation, text) in enumerate(sources, 1))


def sources_prompt(sources: Sequence[tuple[str, str]]) -> str:
    """Numbered excerpts for the model, with the rule to answer from them."""
    return (
        "\n\nAnswer from these excerpts of the project's documents when they are relevant, and cite them "
        "by number like [1]. If they do not contain the answer, say so.\n\n" + numbered_sources(sources)
    )


def build_messages(
    history: Sequence[ChatMessage],
    user_text: str,
    *,
    mode: str = GENERAL_MODE,
    context_length: int,
    max_output_tokens: int,
    sources: Sequence[tuple[str, str]] = (),
) -> tuple[ChatMessage, ...]:
    """System prompt (with any knowledge excerpts) + the newest earlier turns that fit + the new user message."""
    instructions = SYSTEM_PROMPTS.get(mode, SYSTEM_PROMPTS[GENERAL_MODE])
    system = ChatMessage("system", instructions + (sources_prompt(sources) if sources else ""))
    return fit_to_context(
        (system, *history, ChatMessage("user", user_text)),
        context_length=context_length, max_output_tokens=max_output_tokens,
    )


def fit_to_context(
    messages: Sequence[ChatMessage], *, context_length: int, max_output_tokens: int
) -> tuple[ChatMessage, ...]:
    """The leading system messages, the newest earlier turns that fit, and the last message.

    The system messages and the last message always stay, even when they alone are too
    long (`fits` tells: the chat sends them anyway, the API refuses the request).
    """
    *earlier, last = messages
    system = list(takewhile(lambda message: message.role == "system", earlier))
    budget = context_length - max_output_tokens - sum(message_tokens(m) for m in (*system, last))
    kept: list[ChatMessage] = []
    for message in reversed(earlier[len(system):]):
        cost = message_tokens(message)
        if cost > budget:
            break
        budget -= cost
        kept.append(message)
    kept.reverse()
    # A conversation must not start with an orphaned assistant turn.
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return (*system, *kept, last)


def fits(messages: Sequence[ChatMessage], *, context_length: int, max_output_tokens: int) -> bool:
    """Whether `messages` and an answer of `max_output_tokens` fit in the context (by the conservative estimate)."""
    return sum(message_tokens(m) for m in messages) + max_output_tokens <= context_length
