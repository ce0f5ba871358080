"""Sentence embeddings from the offline all-MiniLM-L6-v2 package (never Chroma's downloading default)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

BATCH_SIZE = 32  # measured on 2 cores: 32 beats 64


class Embedder:
    """Loads the model once per process; `embed` is thread-safe and batched.

    One batch runs at a time, so a query waits at most one batch behind a large ingestion
    instead of the two fighting for the same cores.
    """

    def __init__(self, model_path: str, *, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer  # heavy: imported on first use only
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar per process is noise
        self._model = SentenceTransformer(model_path, device=device, local_files_only=True)
        self._lock = threading.Lock()
        self.dimension: int = int(self._model.get_embedding_dimension() or 0)

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = BATCH_SIZE,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; `on_batch(texts_done)` after each batch."""
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._lock:
                rows.append(
                    self._model.encode(
                        batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
                    )
                )
            if on_batch is not None:
                on_batch(start + len(batch))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(rows).astype(np.float32, copy=False)


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(model_path: str) -> Embedder:
    """One model per process and path: the app, the CLI's many questions and the tests reuse it."""
    with _shared_lock:
        if model_path not in _shared:
            _shared[model_path] = Embedder(model_path)
        return _shared[model_path]
