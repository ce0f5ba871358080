"""Token counts estimated from a text, where no tokenizer is at hand.

One estimate for the whole router: trimming a conversation to the model's context window, and
billing an attempt whose provider reported no usage. It errs high: over-estimating only drops
an old turn early, under-estimating would overflow the model. Plain English runs about four
characters a token (three are counted); digits, punctuation and symbols are often a token each;
a character outside ASCII one to three (CJK about 1.75, emoji and Hangul 3: a long text of
those may still be refused by the model, as a bad request).
"""

from __future__ import annotations

import math
import string

CHARS_PER_TOKEN = 3
TOKENS_PER_WIDE_CHAR = 2
_PLAIN = frozenset(string.ascii_letters + string.whitespace)


def estimate_tokens(text: str) -> int:
    """The tokens `text` is likely to take (rounded up)."""
    plain = sum(1 for char in text if char in _PLAIN)
    wide = 0 if text.isascii() else sum(1 for char in text if not char.isascii())
    symbols = len(text) - plain - wide
    return math.ceil(plain / CHARS_PER_TOKEN) + symbols + TOKENS_PER_WIDE_CHAR * wide
