"""Build what a model sees: a system prompt for the assistant mode, then the turns that fit.

The app keeps the whole conversation; each request sends the newest turns that fit in
the chosen model's context window (oldest turns are dropped first, the system prompt and
the new message always stay).
"""

from __future__ import annotations

from collections.abc import Sequence

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


def _message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(len(message.content)) + _PER_MESSAGE_OVERHEAD


def sources_prompt(sources: Sequence[tuple[str, str]]) -> str:
    """Numbered excerpts `(citation, text)` for the model, with the rule to answer from them."""
    numbered = "\n\n".join(f"[{i}] ({citation})\n{text}" for i, (citation, text) in enumerate(sources, 1))
    return (
        "\n\nAnswer from these excerpts of the project's documents when they are relevant, and cite them "
        "by number like [1]. If they do not contain the answer, say so.\n\n" + numbered
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
    new = ChatMessage("user", user_text)
    budget = context_length - max_output_tokens - _message_tokens(system) - _message_tokens(new)
    kept: list[ChatMessage] = []
    for message in reversed(history):
        cost = _message_tokens(message)
        if cost > budget:
            break
        budget -= cost
        kept.append(message)
    kept.reverse()
    # A conversation must not start with an orphaned assistant turn.
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return (system, *kept, new)
