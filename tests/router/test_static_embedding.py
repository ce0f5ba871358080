"""The router's static embedding: the shipped table, the model's tokens, a prompt's beginning, one table per process."""

from __future__ import annotations

import numpy as np
import pytest

from router.static_embedding import DEFAULT_TABLE_FILE, StaticEmbedder, save_table, shared_static_embedder
from settings import get_settings


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return shared_static_embedder(get_settings())


def cosine(static: StaticEmbedder, first: str, second: str) -> float:
    vectors = static.embed([first, second])
    return float(vectors[0] @ vectors[1])


def test_the_shipped_table_is_small_and_gives_unit_vectors(static):
    assert DEFAULT_TABLE_FILE.stat().st_size < 5_000_000  # int8 rows of 30,522 tokens x 128 dimensions
    assert static.dimension == 128
    vectors = static.embed(["How many moons does Mars have?", "hello!", "Ünïcödé ☃ 数学"])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_prompts_are_closer_than_unrelated_ones(static):
    bread = "How do I bake a loaf of bread at home?"
    assert cosine(static, bread, "What is a simple recipe for baking bread?") > cosine(
        static, bread, "Prove that the integral of a continuous function on [0, 1] is bounded.")
    law = "Is a promise without consideration enforceable under contract law?"
    assert cosine(static, law, "When is a contract legally binding?") > cosine(static, law, "Write a haiku about cats.")


def test_only_the_first_max_tokens_count_and_only_the_beginning_is_tokenised(static):
    long_text = "The committee reviewed the annual budget in detail. " * 400  # ~20,000 characters
    head = static.token_ids(long_text, 256)
    assert head == static._tokenizer.encode(long_text, add_special_tokens=False).ids[:256]
    tail_changed = long_text + " Completely different words about quantum chromodynamics." * 50
    assert np.array_equal(static.embed([long_text], max_tokens=256), static.embed([tail_changed], max_tokens=256))
    dogs, birds = static.embed(["cats and dogs", "cats and birds"], max_tokens=3)  # the third token still counts
    assert not np.array_equal(dogs, birds)


def test_a_prompt_of_no_known_tokens_embeds_as_zeros_without_failing(static):
    assert not static.embed([""]).any()


def test_one_table_per_process_and_a_table_for_another_vocabulary_is_refused(static, tmp_path):
    settings = get_settings()
    assert shared_static_embedder(settings) is static
    small = tmp_path / "small.npz"
    save_table(np.ones((10, 8), dtype=np.float32), small)
    with pytest.raises(ValueError, match="has 10 rows, the tokenizer 30522 tokens"):
        StaticEmbedder(settings.embedding_model_path, small)


def test_int8_rows_keep_the_tables_values(tmp_path):
    table = np.random.default_rng(0).normal(size=(30522, 16)).astype(np.float32) * np.linspace(0.1, 3, 30522)[:, None]
    path = tmp_path / "table.npz"
    save_table(table, path)
    loaded = StaticEmbedder(get_settings().embedding_model_path, path)._table
    assert np.abs(loaded - table).max() <= np.abs(table).max(axis=1).max() / 127 / 2 + 1e-6
