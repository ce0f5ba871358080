"""The complexity score: the shipped weights, deterministic training, sane scores, calibrated thresholds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from router.complexity import CHEAP_FEATURES, DEFAULT_WEIGHTS_FILE, ComplexityScorer, ComplexityWeights, cheap_features
from router.training.data import cached_embeddings, default_router_data, load_labelled
from router.training.train_complexity import train
from settings import get_settings

needs_router_data = pytest.mark.skipif(
    not default_router_data().exists(), reason=f"shared router data not found at {default_router_data()} "
    "(set SHARED_DATA_DIR to the folder holding router/train_mmlu_gsm8k.jsonl)")

HARD = [
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends "
    "every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in "
    "dollars does she make every day at the farmers' market?",
    "A train leaves at 3:40 pm travelling 84 km/h; a second train leaves the same station at 4:15 pm at 112 km/h on a "
    "parallel track. At what time does the second train catch up, and how far from the station are they then?",
    "Let p = (1, 2, 5, 4)(2, 3) in S_5. Find the index of <p> in S_5.\nA. 8\nB. 2\nC. 24\nD. 120\nAnswer:",
]
EASY = ["hello!", "good morning", "tell me a joke", "What colour is the sky?", "Write a haiku about cats."]


@pytest.fixture(scope="module")
def scorer() -> ComplexityScorer:
    return ComplexityScorer.from_file(get_settings().embedding_model_path, cloud_share=0.3)


def test_shipped_weights_load_and_are_small():
    weights = ComplexityWeights.load()
    assert DEFAULT_WEIGHTS_FILE.stat().st_size < 64_000
    assert weights.embedding.coef.shape == (weights.meta["embedding_dim"] + len(CHEAP_FEATURES),)
    assert weights.heuristic.coef.shape == (len(CHEAP_FEATURES),)
    assert np.all(np.diff(weights.embedding.quantiles) >= 0)
    assert weights.meta["label"] == "strong_correct and not weak_correct"


def test_scores_are_probabilities_and_hard_prompts_score_higher(scorer):
    hard = [s.strong_win_rate for s in scorer.score_many(HARD)]
    easy = [s.strong_win_rate for s in scorer.score_many(EASY)]
    assert all(0.0 <= value <= 1.0 for value in hard + easy)
    assert min(hard) > max(easy), (hard, easy)
    assert all(value < scorer.threshold_for(0.3) for value in easy)  # small talk stays local
    single = scorer.score(HARD[0])
    assert single.method == "embedding" and single.threshold == scorer.threshold_for()
    assert single.strong_win_rate == pytest.approx(hard[0], abs=1e-6)  # batching does not change a score


def test_scores_from_cached_embeddings_equal_the_scorers_own(scorer, tmp_path):
    prompts = HARD + EASY
    embeddings = cached_embeddings(prompts, get_settings().embedding_model_path, tmp_path)
    from_cache = scorer.score_embedded(embeddings, prompts)
    direct = scorer.score_many(prompts)
    assert [s.strong_win_rate for s in from_cache] == pytest.approx([s.strong_win_rate for s in direct], abs=1e-5)
    assert {(s.method, s.threshold) for s in from_cache} == {("embedding", scorer.threshold_for())}


def test_threshold_follows_the_target_cloud_share(scorer):
    thresholds = [scorer.threshold_for(share) for share in (0.1, 0.3, 0.5, 0.9)]
    assert thresholds == sorted(thresholds, reverse=True)
    assert scorer.threshold_for(0.0) == math.inf
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
    fallback = ComplexityScorer.from_file(str(tmp_path / "no-model"), cloud_share=0.3)
    score = fallback.score(HARD[1])
    assert score.method == "heuristic" and 0.0 <= score.strong_win_rate <= 1.0
    assert "embedding model unavailable" in score.note
    assert score.threshold == fallback.threshold_for(method="heuristic")


def _labelled_file(path):
    rows = []
    for i in range(40):
        rows.append({"id": f"math-{i:02d}", "prompt": f"A shop sells {i + 3} boxes of {i + 7} pens at ${i + 2} each; "
                     f"after a {i % 9 + 5}% discount, how much do {i + 11} boxes cost?",
                     "strong_correct": True, "weak_correct": i % 3 == 0})
        rows.append({"id": f"chat-{i:02d}", "prompt": f"Say hello to friend number {i}.",
                     "strong_correct": True, "weak_correct": i % 7 != 0})
    path.write_text("\n".join(json.dumps(row) for row in reversed(rows)) + "\n", encoding="utf-8")
    return path


def test_training_is_deterministic_and_learns_from_user_data(tmp_path):
    data = _labelled_file(tmp_path / "mine.jsonl")
    embedder = get_settings().embedding_model_path
    first = train(data, embedder, tmp_path / "cache-a")
    second = train(data, embedder, tmp_path / "cache-b")  # embeds again, from scratch
    for name in ("embedding", "heuristic"):
        a, b = getattr(first, name), getattr(second, name)
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(a.quantiles, b.quantiles, rtol=1e-6, atol=1e-9)
    first.save(tmp_path / "w.npz")
    reloaded = ComplexityWeights.load(tmp_path / "w.npz")
    assert reloaded.meta == first.meta and reloaded.meta["rows"] == 80
    mine = ComplexityScorer(reloaded, embedder)
    math_score, chat_score = (s.strong_win_rate for s in mine.score_many(
        ["A shop sells 9 boxes of 13 pens at $8 each; after a 7% discount, how much do 17 boxes cost?",
         "Say hello to friend number 99."]))
    assert math_score > chat_score


def test_bad_training_data_is_rejected_with_its_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "strong_correct": true, "weak_correct": false}\n{"id": "b"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: expected id, prompt"):
        load_labelled(bad)
