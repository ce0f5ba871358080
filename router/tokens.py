"""Token counts estimated from a text's length, where no tokenizer is at hand.

One estimate for the whole router: trimming a conversation to the model's context window, and
billing an attempt whose provider reported no usage. Three characters per token errs high
for English (about four) and is close for Indonesian and code, so a trimmed prompt fits the
window and an estimated bill is not too low.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 3


def estimate_tokens(characters: int) -> int:
    """The tokens of a text of `characters` characters, rounded up."""
    return math.ceil(characters / CHARS_PER_TOKEN)
