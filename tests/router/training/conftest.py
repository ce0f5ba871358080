"""Small labelled files of both kinds, as a deployment would bring them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedding import Embedder
from router.static_embedding import shared_static_embedder
from settings import get_settings


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The router's embedding (the static table), as training uses it."""
    return shared_static_embedder(get_settings())


@pytest.fixture
def correctness_file(tmp_path: Path) -> Path:
    """Arithmetic word problems the strong model wins more often; greetings both answer (ties)."""
    rows = []
    for i in range(30):
        rows.append({"id": f"math-{i:02d}", "prompt": f"A shop sells {i + 3} boxes of {i + 7} pens at ${i + 2} each; "
                     f"after a {i % 9 + 5}% discount, how much do {i + 11} boxes cost?",
                     "strong_correct": True, "weak_correct": i % 3 == 0})
        rows.append({"id": f"chat-{i:02d}", "prompt": f"Say hello to friend number {i}.",
                     "strong_correct": True, "weak_correct": True})
    return write_jsonl(tmp_path / "benchmark.jsonl", list(reversed(rows)))


@pytest.fixture
def preference_file(tmp_path: Path) -> Path:
    """Users preferred the local model's poems (weak_score 1) and the cloud's legal answers."""
    rows = []
    for i in range(20):
        rows.append({"id": f"fb-poem-{i:02d}", "prompt": f"Write a short poem about the colour number {i} of autumn leaves.",
                     "strong_score": 0.0, "weak_score": 1.0})
        rows.append({"id": f"fb-law-{i:02d}", "prompt": f"Under contract law, is a promise number {i} without "
                     "consideration enforceable if the promisee relied on it to their detriment?",
                     "strong_score": 1.0, "weak_score": 0.0 if i % 4 else 0.5})
    return write_jsonl(tmp_path / "feedback.jsonl", rows)
