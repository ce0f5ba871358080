"""Labelled routing data and its embeddings, loaded the same way by training and evaluation.

Two kinds of rows, freely mixed in and across files:
- correctness: `{"id", "prompt", "strong_correct": bool, "weak_correct": bool}` (benchmarks);
- preference: `{"id", "prompt", "strong_score": float, "weak_score": float}`, scores in [0, 1],
  1 = that model's answer was the better one (users' comparisons and thumbs, exported feedback).
A correctness row is the preference row with scores 1.0/0.0, so both become one pair of
scores, and one training target: `(1 + strong_score - weak_score) / 2` ("strong wins", a
tie counting half; see `LabelledPrompts.target`).

Rows are sorted by (id, prompt, scores) so every run sees the same order whatever the
file order (determinism); embeddings are cached in a git-ignored folder keyed by the
embedder and the exact prompts, because embedding eleven thousand prompts takes minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedding import MAX_TOKENS, Embedder
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
    """Prompts with how good each model class's answer was (1 = right / preferred, 0 = wrong / not)."""

    ids: list[str]
    prompts: list[str]
    sources: list[str]
    strong_score: np.ndarray
    weak_score: np.ndarray
    #: How much each row counts in training (the deployment's own labels count more; see train_complexity).
    row_weight: np.ndarray

    @property
    def target(self) -> np.ndarray:
        """The training target in [0, 1]: how much the strong model's answer beats the weak one's.

        1 = strong right and weak wrong (or strong preferred), 0 = the reverse, 0.5 = a tie
        (both right, both wrong, "both fine"). Its expectation is 0.5 + (E[strong] - E[weak]) / 2,
        so ranking prompts by it is ranking by the quality gained when the cloud answers,
        which is what RouteLLM's PGR rewards.
        """
        return (1.0 + self.strong_score - self.weak_score) / 2.0

    @property
    def groups(self) -> list[str]:
        """The id without its last `-part`: the MMLU subject (`mmlu-<subject>`), `gsm8k`, a feedback batch."""
        return [row_id.rsplit("-", 1)[0] for row_id in self.ids]

    def subset(self, index: np.ndarray | Sequence[int]) -> LabelledPrompts:
        index = np.asarray(index, dtype=np.int64)
        return LabelledPrompts([self.ids[i] for i in index], [self.prompts[i] for i in index],
                               [self.sources[i] for i in index], self.strong_score[index], self.weak_score[index],
                               self.row_weight[index])

    def __len__(self) -> int:
        return len(self.ids)


Row = tuple[str, str, str, float, float]


def _parse_row(row: dict) -> Row:
    if "strong_correct" in row or "weak_correct" in row:
        strong, weak = row["strong_correct"], row["weak_correct"]
        if not (isinstance(strong, bool) and isinstance(weak, bool)):
            raise TypeError("strong_correct and weak_correct must be true or false")
    else:
        strong, weak = float(row["strong_score"]), float(row["weak_score"])
        if not (0.0 <= strong <= 1.0 and 0.0 <= weak <= 1.0):  # also refuses NaN
            raise ValueError("strong_score and weak_score must be between 0 and 1")
    return str(row["id"]), str(row["prompt"]), str(row.get("source", "")), float(strong), float(weak)


def _read_rows(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(_parse_row(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: expected id, prompt and either strong_correct, weak_correct "
                                 f"or strong_score, weak_score ({exc})") from None
    if not rows:
        raise ValueError(f"{path} has no rows")
    return rows


def load_labelled(*paths: Path, weighted: Sequence[tuple[Path, float]] = ()) -> LabelledPrompts:
    """Read and combine JSONL files of correctness and/or preference rows, in a fixed order.

    Rows of `paths` count 1; rows of each `(path, weight)` in `weighted` count `weight`.
    """
    sources = [(path, 1.0) for path in paths] + list(weighted)
    if not sources:
        raise ValueError("no labelled data files given")
    rows = sorted((*row, weight) for path, weight in sources for row in _read_rows(path))
    ids, prompts, origins, strong, weak, weights = zip(*rows)
    return LabelledPrompts(list(ids), list(prompts), list(origins), np.array(strong), np.array(weak), np.array(weights))


def cached_embeddings(prompts: Sequence[str], embedder: Embedder, cache_dir: Path = DEFAULT_CACHE_DIR, *,
                      max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Unit sentence embeddings of `prompts`' first `max_tokens` tokens, computed once per embedder, then cached.

    The cache is per prompt (a new feedback file embeds only its own prompts). Each prompt is
    embedded alone, as the router embeds a message: the int8 model quantises activations per
    batch, so batching would shift the vectors slightly from what the app sees.
    """
    folder = cache_dir / hashlib.sha256(f"{embedder.name} {max_tokens}".encode()).hexdigest()[:16]
    keys_file, vectors_file = folder / "prompts.npy", folder / "vectors.npy"
    keys = [hashlib.sha256(prompt.encode("utf-8")).digest()[:16] for prompt in prompts]
    known_keys: list[bytes] = []
    known = np.zeros((0, embedder.dimension), dtype=np.float32)
    if keys_file.exists() and vectors_file.exists():
        known_keys, known = np.load(keys_file, allow_pickle=False).tolist(), np.load(vectors_file, allow_pickle=False)
    row_of = {key: row for row, key in enumerate(known_keys)}
    missing = {key: prompt for key, prompt in zip(keys, prompts) if key not in row_of}
    if missing:
        from tqdm import tqdm

        with tqdm(total=len(missing), desc="embedding prompts", unit="prompt", disable=len(missing) < 1000) as bar:
            fresh = embedder.embed(list(missing.values()), batch_size=1, max_tokens=max_tokens,
                                   on_batch=lambda done: bar.update(done - bar.n))
        row_of |= {key: len(known_keys) + i for i, key in enumerate(missing)}
        known_keys, known = known_keys + list(missing), np.vstack([known, fresh])
        folder.mkdir(parents=True, exist_ok=True)
        for target, array in ((vectors_file, known), (keys_file, np.array(known_keys, dtype="S16"))):
            partial = target.with_suffix(".partial.npy")
            np.save(partial, array, allow_pickle=False)
            os.replace(partial, target)  # a reader sees the old or the new file, never half of one
    return known[[row_of[key] for key in keys]]
