"""RouteLLM's router metrics (arXiv 2406.18665, sec. 3.2), for correctness- or preference-labelled prompts.

A router sends the prompts with the highest scores to the strong model. Sweeping the
threshold gives, for each share of calls to the strong model ("cost"), a performance:
the mean score of the answers given, where a prompt's score per model is its correctness
(1/0) or its preference score in [0, 1] (1 = that model's answer was the better one). PGR(cost) = (perf - weak) / (strong - weak) is the performance
gap recovered; CPT(x) is the smallest strong-call share with PGR >= x; APGR is the area
under PGR over cost in [0, 1] (trapezoid over every possible threshold). A random router
has APGR ~ 0.5 and CPT(50%) ~ 50%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RouterMetrics:
    cpt50: float
    cpt80: float
    apgr: float
    weak_accuracy: float
    strong_accuracy: float


def pgr_curve(scores: np.ndarray, strong_score: np.ndarray, weak_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strong-call share, PGR) for k = 0..n prompts sent to the strong model, highest scores first.

    `strong_score`/`weak_score`: per prompt, how good each model's answer was (bools or floats in [0, 1]).
    """
    n = len(scores)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    strong = np.asarray(strong_score, dtype=np.float64)[order]
    weak = np.asarray(weak_score, dtype=np.float64)[order]
    correct = np.concatenate([[0.0], np.cumsum(strong)]) + (weak.sum() - np.concatenate([[0.0], np.cumsum(weak)]))
    performance = correct / n
    weak_perf, strong_perf = weak.mean(), strong.mean()
    if strong_perf <= weak_perf:
        raise ValueError("the strong model is not better than the weak one on these prompts; PGR is undefined")
    return np.arange(n + 1) / n, (performance - weak_perf) / (strong_perf - weak_perf)


def cpt(cost: np.ndarray, pgr: np.ndarray, target: float) -> float:
    """Smallest share of strong-model calls reaching PGR >= target."""
    reached = np.nonzero(pgr >= target - 1e-12)[0]
    return float(cost[reached[0]]) if len(reached) else 1.0


def evaluate(scores: np.ndarray, strong_score: np.ndarray, weak_score: np.ndarray) -> RouterMetrics:
    cost, pgr = pgr_curve(scores, strong_score, weak_score)
    return RouterMetrics(
        cpt50=cpt(cost, pgr, 0.5), cpt80=cpt(cost, pgr, 0.8), apgr=float(np.trapezoid(pgr, cost)),
        weak_accuracy=float(np.mean(weak_score)), strong_accuracy=float(np.mean(strong_score)),
    )
