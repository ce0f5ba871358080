"""RouteLLM's CPT and APGR on routers whose figures are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from router.training.routellm_metrics import evaluate, pgr_curve


def test_perfect_and_worst_routers():
    strong = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)
    weak = np.array([0, 0, 1, 1, 0, 1, 1, 1], bool)  # the strong model wins on the first two prompts
    perfect = evaluate(np.array([9, 8, 1, 1, 1, 1, 1, 1.0]), strong, weak)
    assert perfect.cpt50 == pytest.approx(1 / 8) and perfect.cpt80 == pytest.approx(2 / 8)
    worst = evaluate(np.array([0, 0, 1, 1, 1, 1, 1, 1.0]), strong, weak)
    assert worst.cpt50 == pytest.approx(7 / 8) and worst.apgr < perfect.apgr
    cost, pgr = pgr_curve(np.arange(8.0), strong, weak)
    assert pgr[0] == pytest.approx(0.0) and pgr[-1] == pytest.approx(1.0) and cost[-1] == 1.0


def test_a_random_router_recovers_about_half_the_gap_at_half_the_cost():
    rng = np.random.default_rng(0)
    strong = rng.random(20_000) < 0.8
    weak = rng.random(20_000) < 0.67
    metrics = evaluate(rng.random(20_000), strong, weak)
    assert metrics.cpt50 == pytest.approx(0.5, abs=0.05) and metrics.apgr == pytest.approx(0.5, abs=0.03)


def test_pgr_is_undefined_when_the_strong_model_is_not_better():
    with pytest.raises(ValueError, match="not better"):
        pgr_curve(np.arange(3.0), np.array([0, 1, 0], bool), np.array([1, 1, 0], bool))


def test_preference_scores_count_like_correctness():
    # preference rows: 1 = that model's answer was the better one, 0.5 each for "both fine"
    strong = np.array([1.0, 1.0, 0.5, 0.0])
    weak = np.array([0.0, 0.0, 0.5, 1.0])
    best = evaluate(np.array([4, 3, 2, 1.0]), strong, weak)
    worst = evaluate(np.array([1, 2, 3, 4.0]), strong, weak)
    cost, pgr = pgr_curve(np.array([4, 3, 2, 1.0]), strong, weak)
    np.testing.assert_allclose(pgr, [0.0, 1.0, 2.0, 2.0, 1.0])  # sending the weak model's win to the cloud loses
    assert best.cpt50 == pytest.approx(0.25) and best.apgr > worst.apgr
