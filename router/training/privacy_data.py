"""The privacy scan's labelled data, split into a part to tune on and a part to report on.

A scan tuned on the very sentences it is then measured on reports a recall no user will see.
So every source is cut in two, deterministically: presidio's sentences by the template that
generated them (sentences of one template share their wording, so a template's sentences all
fall on one side), the router's ordinary prompts by their text (a prompt asked twice stays on one side). Look at the "tune" part's misses; quote
the "report" part.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from router.training.data import default_router_data, shared_data_dir

Part = Literal["tune", "report"]
PARTS: tuple[Part, ...] = ("tune", "report")


@dataclass(frozen=True)
class LabelledSentence:
    text: str
    #: presidio entity types in the sentence (empty: no personal data, nor anything else).
    types: frozenset[str]
    #: The template's wording (placeholders dropped): the unit of the split.
    template: str


#: Prefixed to every key before hashing. Chosen among 200 by the entity counts alone (never by scan
#: results) so that each part holds every presidio type in similar numbers.
_SALT = "122"


def part_of(key: str) -> Part:
    """Which part a template or prompt belongs to: a stable hash, about half each."""
    return PARTS[zlib.crc32((_SALT + key).encode("utf-8")) % 2]


def presidio_path() -> Path:
    return shared_data_dir() / "privacy" / "presidio_synth_train.jsonl"


def presidio_sentences(part: Part) -> list[LabelledSentence]:
    """presidio-research's synthetic sentences whose template falls into `part`."""
    directory = shared_data_dir() / "privacy"
    templates = [_literal_parts(line) for line in
                 (directory / "presidio_templates.txt").read_text(encoding="utf-8").split("\n") if line.strip()]
    sentences = []
    for row in _jsonl(presidio_path()):
        template = _template_of(_normalised(row["text"]), templates)
        if part_of(template) == part:
            sentences.append(LabelledSentence(row["text"], frozenset(s["type"] for s in row["spans"]), template))
    return sentences


def router_prompts(part: Part) -> list[str]:
    """The router's MMLU/GSM8K prompts (no personal data in any) that fall into `part`."""
    return [row["prompt"] for row in _jsonl(default_router_data()) if part_of(row["prompt"]) == part]


def _jsonl(path: Path) -> Iterator[dict]:
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            yield json.loads(line)


_PLACEHOLDER = re.compile(r"\s*\{\{\s*\w+\s*\}\}\s*")


def _normalised(text: str) -> str:
    """Lowercase, one space for any whitespace: the generator changed case and line breaks."""
    return " ".join(text.replace("\\n", "\n").replace("\\,", ",").split()).lower()


def _literal_parts(template: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.split(_normalised(template)))


def _fits(parts: tuple[str, ...], text: str) -> bool:
    """Whether `text` is `parts` with something between each two (a linear scan, no regex)."""
    if len(parts) == 1:
        return text == parts[0]
    if not (text.startswith(parts[0]) and text.endswith(parts[-1])):
        return False
    position = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return len(text) - len(parts[-1]) >= position


def _template_of(text: str, templates: list[tuple[str, ...]]) -> str:
    """The most specific template (most literal text) the sentence fits; duplicates share their wording."""
    fitting = [parts for parts in templates if _fits(parts, text)]
    best = max(fitting, key=lambda parts: (sum(map(len, parts)), parts), default=("",))
    return "{}".join(best)
