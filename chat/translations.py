"""The chat's own sentences in the reader's language, from the files that translate Chainlit's interface.

They sit under the key "hybridChat" of `.chainlit/translations/<language>.json` (English and Bahasa
Indonesia), found for the browser's language as Chainlit finds its own strings; a language without
them reads English. Placeholders are i18next's `{{name}}`, as in the rest of those files.
"""

from __future__ import annotations

import re
from functools import lru_cache

import chainlit as cl
from chainlit.config import config

DEFAULT_LANGUAGE = "en-US"
_PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")


@lru_cache(maxsize=32)
def _strings(language: str) -> dict:
    return config.load_translation(language).get("hybridChat", {})


def _lookup(language: str, key: str) -> str | None:
    node = _strings(language)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


def translated(key: str, language: str | None = None, **values: str) -> str:
    """The sentence `key` ("comparison.note") in `language` (default: this chat's browser language)."""
    language = language or getattr(cl.context.session, "language", None) or DEFAULT_LANGUAGE
    text = _lookup(language, key) or _lookup(DEFAULT_LANGUAGE, key)
    if text is None:
        raise KeyError(f"no sentence {key!r} under hybridChat in the translations")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
