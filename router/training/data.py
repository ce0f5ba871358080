"""Labelled routing data and its embeddings, loaded the same way by training and evaluation.

Rows are sorted by id so every run sees the same order (determinism); embeddings are
cached in a git-ignored folder keyed by the embedder and the exact prompts, because
embedding eleven thousand prompts on a laptop CPU takes minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from settings import PROJECT_ROOT

DEFAULT_CACHE_DIR = PROJECT_ROOT / "data" / "cache" / "complexity"


def shared_data_dir() -> Path:
    """`SHARED_DATA_DIR`, else `../shared/data` beside the repository (where CI puts it)."""
    configured = os.environ.get("SHARED_DATA_DIR")
    return Path(configured) if configured else (PROJECT_ROOT.parent / "shared" / "data").resolve()


def default_router_data() -> Path:
    return shared_data_dir() / "router" / "train_mmlu_gsm8k.jsonl"


@dataclass(frozen=True)
class LabelledPrompts:
    """Prompts with which model class answered them correctly (RouteLLM's golden labels)."""

    ids: list[str]
    prompts: list[str]
    sources: list[str]
    strong_correct: np.ndarray
    weak_correct: np.ndarray

    @property
    def strong_wins(self) -> np.ndarray:
        """The training label: the strong model was right where the weak one was wrong."""
        return (self.strong_correct & ~self.weak_correct).astype(np.int64)

    def __len__(self) -> int:
        return len(self.ids)


def load_labelled(path: Path) -> LabelledPrompts:
    """Read `{"id", "prompt", "strong_correct", "weak_correct", "source"?}` JSONL, sorted by id."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append((str(row["id"]), str(row["prompt"]), str(row.get("source", "")),
                             bool(row["strong_correct"]), bool(row["weak_correct"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected id, prompt, strong_correct, weak_correct ({exc})") from None
    if not rows:
        raise ValueError(f"{path} has no rows")
    rows.sort(key=lambda row: row[0])
    ids, prompts, sources, strong, weak = zip(*rows)
    return LabelledPrompts(list(ids), list(prompts), list(sources), np.array(strong), np.array(weak))


def cached_embeddings(prompts: list[str], embedder_path: str, cache_dir: Path = DEFAULT_CACHE_DIR) -> np.ndarray:
    """Normalised sentence embeddings of `prompts`, computed once and then read from the cache."""
    digest = hashlib.sha256(Path(embedder_path).name.encode())
    for prompt in prompts:
        digest.update(prompt.encode("utf-8") + b"\0")
    cache_file = cache_dir / f"{digest.hexdigest()[:24]}.npy"
    if cache_file.exists():
        return np.load(cache_file, allow_pickle=False)
    from router.complexity import load_embedder

    embeddings = load_embedder(embedder_path).encode(
        prompts, batch_size=64, normalize_embeddings=True, show_progress_bar=True, convert_to_numpy=True
    ).astype(np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache_file, embeddings, allow_pickle=False)
    return embeddings
