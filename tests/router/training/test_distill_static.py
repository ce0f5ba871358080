"""Distillation: each token's row is what the model outputs for that token alone; PCA is deterministic."""

from __future__ import annotations

import numpy as np

from embedding import OnnxEmbedder, shared_embedder
from router.training.distill_static import distil
from settings import get_settings


def test_a_tokens_raw_row_is_the_models_embedding_of_that_token_as_a_prompt():
    embedder = shared_embedder(get_settings())
    assert isinstance(embedder, OnnxEmbedder)
    for word in ("bread", "contract", "integral"):
        token = embedder._tokenizer.token_to_id(word)
        raw = embedder.pooled_output([token])
        assert raw.shape == (embedder.dimension,)
        np.testing.assert_allclose(raw / np.linalg.norm(raw), embedder.embed([word])[0], atol=1e-5)


def test_pca_centres_keeps_the_largest_components_and_is_deterministic():
    rng = np.random.default_rng(0)
    outputs = (rng.normal(size=(500, 12)) * np.arange(12, 0, -1)).astype(np.float32) + 5.0
    table = distil(outputs, 4)
    assert table.shape == (500, 4) and table.dtype == np.float32
    np.testing.assert_allclose(table.mean(axis=0), 0.0, atol=1e-4)  # centred
    variances = table.var(axis=0)
    assert np.all(np.diff(variances) < 0)  # largest first
    np.testing.assert_array_equal(table, distil(outputs, 4))
