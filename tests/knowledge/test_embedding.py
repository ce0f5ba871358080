"""The embedder: offline model, unit vectors, batching with progress, one model per process."""

from __future__ import annotations

import numpy as np

from knowledge._embedding import shared_embedder
from settings import get_settings


def test_unit_vectors_in_batches_with_progress(embedder):
    texts = [f"sentence number {i} about rivers and lakes" for i in range(5)]
    done: list[int] = []
    vectors = embedder.embed(texts, batch_size=2, on_batch=done.append)
    assert vectors.shape == (5, embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert done == [2, 4, 5]
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-5)  # batching does not change results


def test_similar_meaning_scores_higher(embedder):
    question, related, unrelated = embedder.embed(
        ["How do I bake bread?", "Knead the dough and bake the loaf for forty minutes.", "The train leaves at noon."]
    )
    assert question @ related > question @ unrelated + 0.2


def test_empty_input_and_one_model_per_process(embedder):
    assert embedder.embed([]).shape == (0, embedder.dimension)
    assert shared_embedder(get_settings().embedding_model_path) is embedder
