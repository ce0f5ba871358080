"""Cross-validated RouteLLM figures of the complexity router, against a random and a length router.

    .venv/bin/python -m router.training.evaluate_complexity [--data FILE.jsonl] [--folds 5] [--sweep]

Prompts are embedded once (cached); each fold fits the same logistic regressions as
`train_complexity.py` on the other folds and scores the held-out one, so every figure
is measured on prompts the model did not see. A second split holds whole MMLU subjects
(and GSM8K) out, the harder question of how it does on topics it never saw.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedKFold

from router.complexity import cheap_features, embedding_features
from router.training.data import DEFAULT_CACHE_DIR, cached_embeddings, default_router_data, load_labelled
from router.training.routellm_metrics import evaluate
from router.training.train_complexity import EMBEDDING_C, HEURISTIC_C, fit_linear
from settings import get_settings

SEED = 0
RANDOM_REPEATS = 20


def out_of_fold(features: np.ndarray, labels: np.ndarray, splits, c: float) -> np.ndarray:
    scores = np.zeros(len(labels))
    for train_index, test_index in splits:
        model = fit_linear(features[train_index], labels[train_index], c)
        scores[test_index] = model.predict(features[test_index])
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_router_data(), help="labelled JSONL")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="also try other regularisation strengths")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"no data at {args.data} (set SHARED_DATA_DIR or pass --data)")

    data = load_labelled(args.data)
    labels = data.strong_wins
    embeddings = cached_embeddings(data.prompts, get_settings().embedding_model_path, DEFAULT_CACHE_DIR)
    full = embedding_features(embeddings, data.prompts)
    cheap = cheap_features(data.prompts)
    stratified = list(StratifiedKFold(args.folds, shuffle=True, random_state=SEED).split(full, labels))
    groups = [row_id.rsplit("-", 1)[0] for row_id in data.ids]  # mmlu-<subject>, gsm8k
    by_subject = list(GroupKFold(args.folds).split(full, labels, groups))

    rng = np.random.default_rng(SEED)
    routers: dict[str, Callable[[], np.ndarray]] = {
        "embedding+features (ours)": lambda: out_of_fold(full, labels, stratified, EMBEDDING_C),
        "embedding+features, unseen subjects": lambda: out_of_fold(full, labels, by_subject, EMBEDDING_C),
        "cheap features only (fallback)": lambda: out_of_fold(cheap, labels, stratified, HEURISTIC_C),
        "prompt length": lambda: np.array([len(p) for p in data.prompts], dtype=np.float64),
    }
    if args.sweep:
        for c in (0.05, 0.1, 0.2, 1.0, 2.0):
            routers[f"embedding+features C={c}"] = lambda c=c: out_of_fold(full, labels, stratified, c)

    sources = np.array(data.sources)
    subsets = {"all": np.ones(len(data), bool), "mmlu": sources == "mmlu", "gsm8k": sources == "gsm8k"}
    print(f"{len(data)} prompts, {args.folds}-fold CV; label = strong right and weak wrong "
          f"({labels.mean():.1%} of prompts)")
    for subset, mask in subsets.items():
        metrics = evaluate(np.zeros(mask.sum()), data.strong_correct[mask], data.weak_correct[mask])
        print(f"  {subset}: weak accuracy {metrics.weak_accuracy:.1%}, strong accuracy {metrics.strong_accuracy:.1%}")
    print(f"\n{'router':<38} {'subset':<6} {'CPT(50%)':>9} {'CPT(80%)':>9} {'APGR':>6}")

    def show(name: str, per_subset: dict[str, tuple[float, float, float]]) -> None:
        for subset, (cpt50, cpt80, apgr) in per_subset.items():
            print(f"{name:<38} {subset:<6} {cpt50:>9.1%} {cpt80:>9.1%} {apgr:>6.3f}")

    random_runs = {subset: [] for subset in subsets}
    for _ in range(RANDOM_REPEATS):
        scores = rng.random(len(data))
        for subset, mask in subsets.items():
            m = evaluate(scores[mask], data.strong_correct[mask], data.weak_correct[mask])
            random_runs[subset].append((m.cpt50, m.cpt80, m.apgr))
    show(f"random (mean of {RANDOM_REPEATS})", {s: tuple(np.mean(v, axis=0)) for s, v in random_runs.items()})
    for name, make_scores in routers.items():
        scores = make_scores()
        results = {}
        for subset, mask in subsets.items():
            m = evaluate(scores[mask], data.strong_correct[mask], data.weak_correct[mask])
            results[subset] = (m.cpt50, m.cpt80, m.apgr)
        show(name, results)


if __name__ == "__main__":
    main()
