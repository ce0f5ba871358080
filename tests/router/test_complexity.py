"""The complexity score: the shipped weights, the shared embedder, sane scores, calibrated thresholds, the fallback."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from embedding import OnnxEmbedder, onnx_int8_path
from knowledge import KnowledgeBase
from router.complexity import (
    CHEAP_FEATURES, DEFAULT_WEIGHTS_FILE, ComplexityScorer, ComplexityWeights, NeighbourModel, cheap_features,
)
from router.policy import RoutingPolicy
from router.static_embedding import StaticEmbedder, shared_static_embedder
from router.training.data import cached_embeddings, default_router_data, load_labelled
from settings import Settings, get_settings

needs_router_data = pytest.mark.skipif(
    not default_router_data().exists(), reason=f"shared router data not found at {default_router_data()} "
    "(set SHARED_DATA_DIR to the folder holding router/train_mmlu_gsm8k.jsonl)")

PROMPTS = [
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends "
    "every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in "
    "dollars does she make every day at the farmers' market?",
    "Let p = (1, 2, 5, 4)(2, 3) in S_5. Find the index of <p> in S_5.\nA. 8\nB. 2\nC. 24\nD. 120\nAnswer:",
    "hello!", "tell me a joke", "Write a haiku about cats.",
]


@pytest.fixture(scope="module")
def scorer() -> ComplexityScorer:
    settings = get_settings()
    return ComplexityScorer.from_file(lambda: shared_static_embedder(settings), cloud_share=0.3)


def test_shipped_weights_load_and_stay_small():
    weights = ComplexityWeights.load()
    assert DEFAULT_WEIGHTS_FILE.stat().st_size < 1_500_000  # int8 static embeddings of the 11k labelled prompts
    rows, dim = weights.neighbours.embeddings.shape
    assert rows == weights.meta["rows"] and dim == weights.meta["embedding_dim"] == 128
    assert np.allclose(np.linalg.norm(weights.neighbours.embeddings, axis=1), 1.0, atol=0.02)
    assert weights.heuristic.coef.shape == (len(CHEAP_FEATURES),)
    assert np.all(np.diff(weights.neighbours.quantiles) >= 0) and np.all(np.diff(weights.heuristic.quantiles) >= 0)
    # trained on the shipped static table (its name carries the table's digest), not on another embedding
    assert weights.meta["embedder"] == shared_static_embedder(get_settings()).name


def test_the_scorer_reads_the_static_table_and_the_knowledge_base_the_contextual_model(tmp_path):
    settings = Settings(DATA_DIR=tmp_path / "data")
    exported = onnx_int8_path(settings.embedding_model_path, settings.models_dir)  # skip a second export
    exported.parent.mkdir(parents=True)
    shutil.copyfile(onnx_int8_path(get_settings().embedding_model_path, get_settings().models_dir), exported)
    policy = RoutingPolicy.from_settings(settings)
    assert policy.scorer is not None and policy.scorer.method == "embedding"
    knowledge = KnowledgeBase(settings)
    try:
        assert isinstance(policy.scorer.embedder, StaticEmbedder) and isinstance(knowledge.embedder, OnnxEmbedder)
        assert policy.scorer.embedder is shared_static_embedder(settings)  # one table per process
        assert policy.scorer.embedder.name.split()[0] == knowledge.embedder.name.split()[0]  # distilled from it
    finally:
        knowledge.close()


def test_scores_are_probabilities_and_batching_does_not_move_them(scorer):
    batch = [s.strong_win_rate for s in scorer.score_many(PROMPTS)]
    assert all(0.0 <= value <= 1.0 for value in batch)
    single = scorer.score(PROMPTS[0])
    assert single.method == "embedding" and single.threshold == scorer.threshold_for()
    assert single.strong_win_rate == pytest.approx(batch[0], abs=1e-6)  # a static embedding has no batch effects


def test_scores_from_cached_embeddings_equal_the_scorers_own(scorer, tmp_path):
    embeddings = cached_embeddings(PROMPTS, scorer.embedder, tmp_path, max_tokens=scorer.weights.neighbours.max_tokens)
    from_cache = scorer.score_embedded(embeddings)
    one_by_one = [scorer.score(prompt) for prompt in PROMPTS]
    assert [s.strong_win_rate for s in from_cache] == pytest.approx([s.strong_win_rate for s in one_by_one], abs=1e-5)
    assert {(s.method, s.threshold) for s in from_cache} == {("embedding", scorer.threshold_for())}


def test_threshold_follows_the_target_cloud_share(scorer):
    thresholds = [scorer.threshold_for(share) for share in (0.1, 0.3, 0.5, 0.9)]
    assert thresholds == sorted(thresholds, reverse=True)
    assert scorer.threshold_for(0.0) == math.inf
    for _ in range(2):  # computed, then remembered: per share and per method
        for share in (0.1, 0.3):
            assert scorer.threshold_for(share, "heuristic") == scorer.weights.heuristic.threshold_for(share)
            assert scorer.threshold_for(share) == scorer.weights.neighbours.threshold_for(share)
    with pytest.raises(ValueError, match="between 0 and 1"):
        scorer.threshold_for(1.5)


@needs_router_data
def test_calibration_sends_the_target_share_of_training_prompts_to_the_cloud(scorer):
    data = load_labelled(default_router_data())
    heuristic = ComplexityWeights.load().heuristic
    scores = heuristic.predict(cheap_features(data.prompts))
    for share in (0.1, 0.3, 0.5):
        assert np.mean(scores >= heuristic.threshold_for(share)) == pytest.approx(share, abs=0.01)
    sample = [data.prompts[i] for i in np.random.default_rng(0).choice(len(data), 240, replace=False)]
    cloud = np.mean([s.wants_cloud for s in scorer.score_many(sample)])
    assert cloud == pytest.approx(0.3, abs=0.1)


def test_without_an_embedder_the_heuristic_scores_and_says_why(tmp_path):
    settings = Settings(EMBEDDING_MODEL=str(tmp_path / "no-model"))
    fallback = ComplexityScorer.from_file(lambda: shared_static_embedder(settings), cloud_share=0.3)
    score = fallback.score(PROMPTS[1])
    assert score.method == "heuristic" and 0.0 <= score.strong_win_rate <= 1.0
    assert "embedding model unavailable (FileNotFoundError: no sentence-transformers model folder" in score.note
    assert score.threshold == fallback.threshold_for(method="heuristic")
    assert fallback.embedder is None


def test_without_the_static_table_the_heuristic_scores_and_says_why(tmp_path):
    settings = get_settings()
    fallback = ComplexityScorer.from_file(lambda: shared_static_embedder(settings, tmp_path / "absent.npz"))
    score = fallback.score(PROMPTS[1])
    assert score.method == "heuristic" and "FileNotFoundError" in score.note and "absent.npz" in score.note


def test_an_embedder_of_another_size_is_refused_for_the_heuristic(scorer):
    weights = ComplexityWeights.load()
    smaller = dataclasses.replace(weights.neighbours, embeddings=weights.neighbours.embeddings[:, :100])
    mismatched = ComplexityScorer(dataclasses.replace(weights, neighbours=smaller), lambda: scorer.embedder)
    score = mismatched.score("How many moons does Mars have?")
    assert score.method == "heuristic" and "need 100-dimensional embeddings" in score.note


def test_a_message_is_scored_with_one_blas_thread(scorer, monkeypatch):
    """One prompt's product is too small to share; a second BLAS thread only spins and costs CPU."""
    seen: list[int] = []
    predict = NeighbourModel.predict

    def recording_predict(model, queries, **options):
        seen.extend(_numpy_blas_threads())
        return predict(model, queries, **options)

    monkeypatch.setattr(NeighbourModel, "predict", recording_predict)
    with threadpool_limits(limits=2, user_api="blas"):  # as in the app on a machine with 2 or more cores
        scorer.score(PROMPTS[2])
        assert set(_numpy_blas_threads()) == {2}
    assert seen and set(seen) == {1}


def _numpy_blas_threads() -> list[int]:
    """Threads of the BLAS numpy's products run on (scipy, loaded later by other tests, brings its own)."""
    return [info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas" and f"{os.sep}numpy.libs{os.sep}" in info["filepath"]]
