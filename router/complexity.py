"""`strong_win_rate(prompt)`: how likely a cloud-class model answers clearly better than a local one.

RouteLLM's framing (arXiv 2406.18665): a router estimates P(strong model wins) and a
threshold turns it into a route. Ours is computed on this machine only, from the
prompt's static embedding (`router.static_embedding`: a token table distilled from the
knowledge base's MiniLM, microseconds instead of milliseconds per prompt): the
similarity-weighted win rate of the labelled prompts
(RouteLLM's SW ranking in kernel form): every labelled prompt votes with its target,
weighted by exp(cosine similarity / temperature). The labelled prompts' embeddings ship
in `complexity_weights.npz` as int8 (numpy arrays, no pickle), written by
`router/training/train_complexity.py`. If the embedder cannot load, a logistic regression
over a few cheap text features (same file, same training data) stands in, and the score says so.

The threshold comes from a target cloud share: the weights file stores the quantiles
of the training prompts' scores, so "30% to the cloud" is the 70th percentile.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from threadpoolctl import ThreadpoolController

from embedding import Embedder

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS_FILE = Path(__file__).with_name("complexity_weights.npz")
#: Percent grid of the stored score quantiles (0, 1, ..., 100).
QUANTILE_GRID = np.linspace(0.0, 1.0, 101)
#: Stored embeddings are unit vectors scaled to int8; this maps them back.
INT8_SCALE = 127.0
FORMAT_VERSION = 2

Method = Literal["embedding", "heuristic"]

_DIGIT = re.compile(r"\d")
_MATH = re.compile(r"[=+\-*/^<>%√∑∫π]")
_WORD = re.compile(r"\w+")
_UPPER = re.compile(r"[A-Z]")
_CODE = re.compile(r"[{}\[\];()_`]")
#: numpy's BLAS, limited to one thread while a message is scored: the product is too small to share,
#: and OpenBLAS's idle threads spin after it, which tripled the app's CPU per score (20 ms instead of 7).
_BLAS = ThreadpoolController()
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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def threshold_from_quantiles(quantiles: np.ndarray, cloud_share: float) -> float:
    """The score above which `cloud_share` of the training prompts would go to the cloud."""
    if not 0.0 <= cloud_share <= 1.0:
        raise ValueError(f"cloud share must be between 0 and 1, not {cloud_share}")
    if cloud_share == 0.0:
        return math.inf
    return float(np.interp(1.0 - cloud_share, QUANTILE_GRID, quantiles))


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
        return threshold_from_quantiles(self.quantiles, cloud_share)


@dataclass(frozen=True)
class NeighbourModel:
    """Similarity-weighted mean target of labelled prompts: sum(r w y) / sum(r w), w = exp(cos / temperature).

    `row_weights` (r) let a deployment's own labels count more than benchmark rows;
    every row votes, so no neighbour count is tuned and one far-off row cannot flip a score.
    """

    embeddings: np.ndarray  # (rows, dim) float32 unit vectors
    targets: np.ndarray  # (rows,) in [0, 1]
    row_weights: np.ndarray  # (rows,) > 0
    temperature: float
    quantiles: np.ndarray
    #: Tokens of a prompt's beginning the embeddings read (the embedding's cost grows with them).
    max_tokens: int

    def predict(self, queries: np.ndarray, *, leave_out: np.ndarray | None = None) -> np.ndarray:
        """Scores of unit-vector `queries`; `leave_out[i]` is a row query i may not vote for (training quantiles)."""
        similarity = np.asarray(queries, dtype=np.float32) @ self.embeddings.T
        if leave_out is not None:
            similarity[np.arange(len(similarity)), leave_out] = -np.inf
        votes = np.exp((similarity - similarity.max(axis=1, keepdims=True)) / self.temperature) * self.row_weights
        return (votes @ self.targets) / votes.sum(axis=1)

    def threshold_for(self, cloud_share: float) -> float:
        return threshold_from_quantiles(self.quantiles, cloud_share)


@dataclass(frozen=True)
class ComplexityWeights:
    """The contents of the weights file: the embedding model, the heuristic fallback, metadata."""

    neighbours: NeighbourModel
    heuristic: LinearModel
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        n, h = self.neighbours, self.heuristic
        arrays = {
            "neighbour_embeddings": np.round(n.embeddings * INT8_SCALE).astype(np.int8),
            "neighbour_targets": n.targets.astype(np.float32),
            "neighbour_row_weights": n.row_weights.astype(np.float32),
            "neighbour_temperature": np.array([n.temperature]),
            "neighbour_max_tokens": np.array([n.max_tokens]),
            "neighbour_quantiles": n.quantiles,
            "heuristic_coef": h.coef, "heuristic_intercept": np.array([h.intercept]),
            "heuristic_mean": h.mean, "heuristic_scale": h.scale, "heuristic_quantiles": h.quantiles,
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path = DEFAULT_WEIGHTS_FILE) -> ComplexityWeights:
        with np.load(path, allow_pickle=False) as data:
            if "neighbour_embeddings" not in data:
                raise ValueError(f"{path.name} is from an older version of the complexity router; retrain it")
            neighbours = NeighbourModel(
                embeddings=_column_major(data["neighbour_embeddings"].astype(np.float32) / INT8_SCALE),
                targets=data["neighbour_targets"].astype(np.float32),
                row_weights=data["neighbour_row_weights"].astype(np.float32),
                temperature=float(data["neighbour_temperature"][0]),
                quantiles=data["neighbour_quantiles"].astype(np.float64),
                max_tokens=int(data["neighbour_max_tokens"][0]),
            )
            heuristic = LinearModel(
                coef=data["heuristic_coef"].astype(np.float64), intercept=float(data["heuristic_intercept"][0]),
                mean=data["heuristic_mean"].astype(np.float64), scale=data["heuristic_scale"].astype(np.float64),
                quantiles=data["heuristic_quantiles"].astype(np.float64),
            )
            meta = json.loads(str(data["meta"]))
        if heuristic.coef.shape != (len(CHEAP_FEATURES),):
            raise ValueError(f"{path.name} was trained with other cheap features; retrain it")
        return cls(neighbours, heuristic, meta)


def _column_major(rows: np.ndarray) -> np.ndarray:
    """The same matrix, laid out column by column in memory.

    A prompt's similarities multiply it transposed: read in memory order that took 0.4 ms for
    11,152 stored 384-dimensional prompts instead of 1.1 ms (one core), with the same values.
    """
    return np.ascontiguousarray(rows.T).T


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
    """Scores prompts; gets the shared embedder once, on first use, and falls back if it cannot.

    `embedder` is a function returning the embedder (normally `lambda: shared_static_embedder(settings)`),
    called at most once: loading it is slow, and a failure leaves the heuristic in charge.
    """

    def __init__(self, weights: ComplexityWeights, embedder: Callable[[], Embedder] | None, *,
                 cloud_share: float = 0.3) -> None:
        self.weights = weights
        self.cloud_share = cloud_share
        self._load_embedder = embedder
        self._embedder: Embedder | None = None
        self._embedder_error = "" if embedder else "no embedding model configured"
        self._lock = threading.Lock()
        self._thresholds: dict[tuple[float, Method], float] = {}  # interpolated once, not per message
        self.threshold_for(cloud_share)  # validates the share early

    @classmethod
    def from_file(cls, embedder: Callable[[], Embedder] | None, *, cloud_share: float = 0.3,
                  weights_file: Path = DEFAULT_WEIGHTS_FILE) -> ComplexityScorer:
        return cls(ComplexityWeights.load(weights_file), embedder, cloud_share=cloud_share)

    @property
    def embedder(self) -> Embedder | None:
        """The embedder scores use (loaded on first access), or None when the heuristic stands in."""
        return self._ensure_embedder()

    @property
    def method(self) -> Method:
        return "embedding" if self._ensure_embedder() is not None else "heuristic"

    def threshold_for(self, cloud_share: float | None = None, method: Method | None = None) -> float:
        key = (self.cloud_share if cloud_share is None else cloud_share, method or "embedding")
        if key not in self._thresholds:
            model = self.weights.heuristic if key[1] == "heuristic" else self.weights.neighbours
            self._thresholds[key] = model.threshold_for(key[0])
        return self._thresholds[key]

    def score(self, prompt: str) -> ComplexityScore:
        return self.score_many([prompt])[0]

    def score_many(self, prompts: Sequence[str], *, batch_size: int = 64) -> list[ComplexityScore]:
        """Scores for many prompts at once (batched embedding: the CLI scores thousands this way)."""
        if not prompts:
            return []
        embedder = self._ensure_embedder()
        if embedder is not None:
            return self.score_embedded(self.embed(prompts, batch_size=batch_size))
        values = self.weights.heuristic.predict(cheap_features(prompts))
        threshold = self.threshold_for(method="heuristic")
        note = f"embedding model unavailable ({self._embedder_error}); length/character heuristic used"
        return [ComplexityScore(float(v), "heuristic", threshold, self.cloud_share, note) for v in values]

    def embed(self, prompts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """The prompts' embeddings as the weights expect them (their first `max_tokens` tokens)."""
        embedder = self._ensure_embedder()
        if embedder is None:
            raise RuntimeError(f"no embedder: {self._embedder_error}")
        return embedder.embed(list(prompts), batch_size=batch_size, max_tokens=self.weights.neighbours.max_tokens)

    def score_embedded(self, embeddings: np.ndarray) -> list[ComplexityScore]:
        """Scores from unit embeddings computed elsewhere (cached ones: notebooks, evaluations)."""
        with _BLAS.limit(limits=1, user_api="blas"):
            values = self.weights.neighbours.predict(embeddings)
        threshold = self.threshold_for(method="embedding")
        return [ComplexityScore(float(v), "embedding", threshold, self.cloud_share) for v in values]

    def warm_up(self) -> Method:
        """Load the embedder now (call it off the event loop); returns the method scores will use."""
        return self.method

    def _ensure_embedder(self) -> Embedder | None:
        if self._embedder is not None or self._embedder_error:
            return self._embedder
        with self._lock:
            if self._embedder is None and not self._embedder_error:
                try:
                    embedder = self._load_embedder()  # type: ignore[misc]
                    expected = self.weights.neighbours.embeddings.shape[1]
                    if embedder.dimension != expected:
                        raise ValueError(f"the weights need {expected}-dimensional embeddings, "
                                         f"{embedder.name} gives {embedder.dimension}")
                    self._embedder = embedder
                except Exception as exc:  # any load failure means: use the heuristic, and say why
                    self._embedder_error = f"{type(exc).__name__}: {exc}"[:200]
                    log.warning("complexity embedder unavailable, using the heuristic: %s", self._embedder_error)
        return self._embedder
