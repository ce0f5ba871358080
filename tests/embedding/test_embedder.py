"""The embedder: offline model, unit vectors, batching with progress, one model per process,
and the ONNX int8 backend agreeing with sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest

from embedding import Embedder, OnnxEmbedder, TorchEmbedder, load_embedder, shared_embedder
from embedding._embedder import CHARS_PER_TOKEN, encode_heads
from settings import Settings, get_settings
from tests.support.knowledge_pdfs import TOPIC_PAGES


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return shared_embedder(get_settings())


def test_unit_vectors_in_batches_with_progress(embedder):
    texts = [f"sentence number {i} about rivers and lakes" for i in range(5)]
    done: list[int] = []
    vectors = embedder.embed(texts, batch_size=2, on_batch=done.append)
    assert vectors.shape == (5, embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert done == [2, 4, 5]
    # int8 activations are quantised per batch, so batching changes vectors a little, never their meaning
    assert ((vectors * embedder.embed(texts, batch_size=5)).sum(axis=1) > 0.98).all()


def test_similar_meaning_scores_higher(embedder):
    question, related, unrelated = embedder.embed(
        ["How do I bake bread?", "Knead the dough and bake the loaf for forty minutes.", "The train leaves at noon."]
    )
    assert question @ related > question @ unrelated + 0.2


def test_empty_input_and_one_model_per_process(embedder):
    assert embedder.embed([]).shape == (0, embedder.dimension)
    assert shared_embedder(get_settings()) is embedder


def test_onnx_int8_agrees_with_sentence_transformers():
    settings = get_settings()
    onnx, torch = load_embedder(settings, "onnx-int8"), load_embedder(settings, "torch")
    assert isinstance(onnx, OnnxEmbedder) and isinstance(torch, TorchEmbedder)
    texts = [*TOPIC_PAGES, "How do bees tell each other where the flowers are?", "Why do volcanoes explode?"]
    a, b = onnx.embed(texts), torch.embed(texts)
    agreement = (a * b).sum(axis=1)
    assert agreement.min() > 0.95 and agreement.mean() > 0.98
    # and the ranking of pages for each question is the same
    assert np.array_equal((a[4:] @ a[:4].T).argmax(axis=1), (b[4:] @ b[:4].T).argmax(axis=1))


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="EMBEDDING_BACKEND"):
        load_embedder(Settings(), "tensorflow")


def test_max_tokens_reads_only_the_beginning(embedder):
    start = "The committee reviewed the budget of the city library and its opening hours. " * 3
    texts = [start + "Then they discussed volcanoes.", start + "Then they baked bread for everyone."]
    short = embedder.embed(texts, batch_size=1, max_tokens=16)
    full = embedder.embed(texts, batch_size=1)
    np.testing.assert_allclose(short[0], short[1], atol=1e-6)  # the endings were never read
    assert full[0] @ full[1] < 0.999
    with pytest.raises(ValueError, match="max_tokens must be between 3 and 256"):
        embedder.embed(texts, max_tokens=1000)


LONG_TEXTS = [
    "The committee met on 12 March 2024 to review the 2023 budget of 4,250,000 dollars. " * 60,
    "word " * 3000,
    "x" * 5000,  # no space: read whole
    "日本語のテキスト" * 600,
    "supercalifragilisticexpialidocious" * 30 + " the end" * 300,  # one long word first: the head has too few tokens
    "Ünïcödé naïve\tcafé résumé\n" * 300,
    "a\u0301 ΣΑΣ ΟΔΟΣ " * 400,
    "\n\n" * 1500 + "hello " * 10,
    # long words of several tokens each, shifted so that a head's end falls inside the first tokens
    *("a " * shift + (word + " ") * 400 for word in ("internationalization", "unbelievably", "Pneumonoultramicroscopic")
      for shift in range(12)),
]


@pytest.mark.parametrize("max_tokens", [16, 64, 256])
def test_a_long_text_gives_the_same_first_tokens_as_read_whole(embedder, max_tokens):
    for text in LONG_TEXTS:
        whole = embedder._tokenizer.encode(text).ids
        tokens = encode_heads(embedder._tokenizer, [text], max_tokens)[0].ids
        assert tokens[: max_tokens - 1] == whole[: max_tokens - 1], text[:40]


class _RecordingTokenizer:
    """Passes calls on to the real tokenizer and records the length of every text it is given."""

    def __init__(self, tokenizer) -> None:
        self._tokenizer, self.lengths = tokenizer, []

    def encode(self, text, **options):
        self.lengths.append(len(text))
        return self._tokenizer.encode(text, **options)

    def encode_batch(self, texts, **options):
        self.lengths.extend(map(len, texts))
        return self._tokenizer.encode_batch(texts, **options)


def test_only_the_beginning_of_a_long_prose_text_is_tokenised(embedder, monkeypatch):
    """Tokenising costs as much as the text is long; the router reads 64 tokens of a prompt of any length."""
    recorder = _RecordingTokenizer(embedder._tokenizer)
    monkeypatch.setattr(embedder, "_tokenizer", recorder)
    embedder.embed([LONG_TEXTS[0] * 20], max_tokens=64)
    assert recorder.lengths and max(recorder.lengths) <= CHARS_PER_TOKEN * 64
