"""`strong_win_rate(prompt)`: how likely a cloud-class model answers clearly better than a local one.

RouteLLM's framing (arXiv 2406.18665): a router estimates P(strong model wins) and a
threshold turns it into a route. Ours is computed on this machine only: a logistic
regression over the prompt's local MiniLM sentence embedding plus a few cheap text
features, trained by `router/training/train_complexity.py` and shipped as the small
`complexity_weights.npz` (numpy arrays, no pickle). If the embedder cannot load, a
second logistic regression over the cheap features alone (same file, same training
data) stands in, and the score says so.

The threshold comes from a target cloud share: the weights file stores the quantiles
of the training prompts' scores, so "30% to the cloud" is the 70th percentile.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS_FILE = Path(__file__).with_name("complexity_weights.npz")
#: Percent grid of the stored score quantiles (0, 1, ..., 100).
QUANTILE_GRID = np.linspace(0.0, 1.0, 101)

Method = Literal["embedding", "heuristic"]

_DIGIT = re.compile(r"\d")
_MATH = re.compile(r"[=+\-*/^<>%√∑∫π]")
_WORD = re.compile(r"\w+")
_UPPER = re.compile(r"[A-Z]")
_CODE = re.compile(r"[{}\[\];()_`]")
#: Enough text for every cheap feature; longer prompts are read only this far (keeps scoring O(1)).
_FEATURE_WINDOW = 4000

CHEAP_FEATURES = (
    "log_chars", "log_words", "log_lines", "digit_share", "math_share", "upper_share",
    "code_share", "mean_word_length", "question_marks",
)


def cheap_features(prompts: Sequence[str]) -> np.ndarray:
    """A few length and character-class features per prompt (see `CHEAP_FEATURES`)."""
    rows = []
    for prompt in prompts:
        chars = len(prompt)
        head = prompt[:_FEATURE_WINDOW]
        seen = max(len(head), 1)
        words = _WORD.findall(head)
        word_count = len(words) * chars / seen
        rows.append((
            math.log1p(chars),
            math.log1p(word_count),
            math.log1p(prompt.count("\n")),
            len(_DIGIT.findall(head)) / seen,
            len(_MATH.findall(head)) / seen,
            len(_UPPER.findall(head)) / seen,
            len(_CODE.findall(head)) / seen,
            (sum(map(len, words)) / len(words)) if words else 0.0,
            min(head.count("?"), 5),
        ))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CHEAP_FEATURES))


def load_embedder(path: str) -> Any:
    """The sentence-transformers model, on CPU, offline (imported lazily: torch is slow to import)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression over standardised features, and the quantiles of its training scores."""

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    quantiles: np.ndarray

    def predict(self, features: np.ndarray) -> np.ndarray:
        return _sigmoid(((features - self.mean) / self.scale) @ self.coef + self.intercept)

    def threshold_for(self, cloud_share: float) -> float:
        """The score above which `cloud_share` of the training prompts would go to the cloud."""
        if not 0.0 <= cloud_share <= 1.0:
            raise ValueError(f"cloud share must be between 0 and 1, not {cloud_share}")
        if cloud_share == 0.0:
            return math.inf
        return float(np.interp(1.0 - cloud_share, QUANTILE_GRID, self.quantiles))


@dataclass(frozen=True)
class ComplexityWeights:
    """The contents of the weights file: the embedding model, the heuristic fallback, metadata."""

    embedding: LinearModel
    heuristic: LinearModel
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        arrays = {}
        for name, model in (("embedding", self.embedding), ("heuristic", self.heuristic)):
            arrays |= {f"{name}_coef": model.coef, f"{name}_intercept": np.array([model.intercept]),
                       f"{name}_mean": model.mean, f"{name}_scale": model.scale,
                       f"{name}_quantiles": model.quantiles}
        arrays["meta"] = np.array(json.dumps(self.meta, sort_keys=True))
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path = DEFAULT_WEIGHTS_FILE) -> ComplexityWeights:
        with np.load(path, allow_pickle=False) as data:
            models = {
                name: LinearModel(
                    coef=data[f"{name}_coef"].astype(np.float64),
                    intercept=float(data[f"{name}_intercept"][0]),
                    mean=data[f"{name}_mean"].astype(np.float64),
                    scale=data[f"{name}_scale"].astype(np.float64),
                    quantiles=data[f"{name}_quantiles"].astype(np.float64),
                )
                for name in ("embedding", "heuristic")
            }
            meta = json.loads(str(data["meta"]))
        if models["heuristic"].coef.shape != (len(CHEAP_FEATURES),):
            raise ValueError(f"{path.name} was trained with other cheap features; retrain it")
        return cls(models["embedding"], models["heuristic"], meta)


def embedding_features(embeddings: np.ndarray, prompts: Sequence[str]) -> np.ndarray:
    """What the embedding model reads: the normalised embedding, then the cheap features."""
    return np.hstack([embeddings.astype(np.float64), cheap_features(prompts)])


@dataclass(frozen=True)
class ComplexityScore:
    """One prompt's strong win rate, how it was computed, and the threshold it is compared with."""

    strong_win_rate: float
    method: Method
    threshold: float
    #: The target cloud share the threshold was calibrated for.
    cloud_share: float
    #: Why the heuristic stood in, when it did.
    note: str = ""

    @property
    def wants_cloud(self) -> bool:
        return self.strong_win_rate >= self.threshold


class ComplexityScorer:
    """Scores prompts; loads the embedder once, on first use, and falls back if it cannot."""

    def __init__(self, weights: ComplexityWeights, embedder_path: str | None, *, cloud_share: float = 0.3) -> None:
        self.weights = weights
        self.embedder_path = embedder_path
        self.cloud_share = cloud_share
        self._embedder: Any = None
        self._embedder_error = "" if embedder_path else "no embedding model configured"
        self._lock = threading.Lock()
        self.threshold_for(cloud_share)  # validates the share early

    @classmethod
    def from_file(cls, embedder_path: str | None, *, cloud_share: float = 0.3,
                  weights_file: Path = DEFAULT_WEIGHTS_FILE) -> ComplexityScorer:
        return cls(ComplexityWeights.load(weights_file), embedder_path, cloud_share=cloud_share)

    @property
    def method(self) -> Method:
        return "embedding" if self._ensure_embedder() is not None else "heuristic"

    def threshold_for(self, cloud_share: float | None = None, method: Method | None = None) -> float:
        share = self.cloud_share if cloud_share is None else cloud_share
        model = self.weights.heuristic if (method or "embedding") == "heuristic" else self.weights.embedding
        return model.threshold_for(share)

    def score(self, prompt: str) -> ComplexityScore:
        return self.score_many([prompt])[0]

    def score_many(self, prompts: Sequence[str], *, batch_size: int = 64) -> list[ComplexityScore]:
        """Scores for many prompts at once (batched embedding: the CLI scores thousands this way)."""
        if not prompts:
            return []
        embedder = self._ensure_embedder()
        if embedder is not None:
            embeddings = embedder.encode(list(prompts), batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
            return self.score_embedded(embeddings, prompts)
        values = self.weights.heuristic.predict(cheap_features(prompts))
        threshold = self.threshold_for(method="heuristic")
        note = f"embedding model unavailable ({self._embedder_error}); length/character heuristic used"
        return [ComplexityScore(float(v), "heuristic", threshold, self.cloud_share, note) for v in values]

    def score_embedded(self, embeddings: np.ndarray, prompts: Sequence[str]) -> list[ComplexityScore]:
        """Scores from normalised embeddings computed elsewhere (cached ones: notebooks, evaluations)."""
        values = self.weights.embedding.predict(embedding_features(embeddings, prompts))
        threshold = self.threshold_for(method="embedding")
        return [ComplexityScore(float(v), "embedding", threshold, self.cloud_share) for v in values]

    def warm_up(self) -> Method:
        """Load the embedder now (call it off the event loop); returns the method scores will use."""
        return self.method

    def _ensure_embedder(self) -> Any:
        if self._embedder is not None or self._embedder_error:
            return self._embedder
        with self._lock:
            if self._embedder is None and not self._embedder_error:
                try:
                    path = Path(str(self.embedder_path))
                    if path.is_absolute() and not path.exists():  # say so without importing torch
                        raise FileNotFoundError(f"no model at {path}")
                    self._embedder = load_embedder(str(path))
                except Exception as exc:  # any load failure means: use the heuristic, and say why
                    self._embedder_error = f"{type(exc).__name__}: {exc}"[:200]
                    log.warning("complexity embedder unavailable, using the heuristic: %s", self._embedder_error)
        return self._embedder
