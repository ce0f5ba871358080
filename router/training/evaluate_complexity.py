"""RouteLLM's CPT/APGR figures of the complexity router: on a labelled file, or under domain shift.

    .venv/bin/python -m router.training.evaluate_complexity --data FILE.jsonl [--data ...] [--weights FILE.npz]
    .venv/bin/python -m router.training.evaluate_complexity [--protocol domain-shift] [--tuning]

`--data`: how the configured weights (`COMPLEXITY_WEIGHTS_FILE`, or `--weights`) route the
prompts of any correctness- or preference-labelled file (a feedback export, say), beside a
random router and prompt length.

The domain-shift protocol (the default) asks how the router does on topics it never saw,
and how much a few hundred labels from them help. The 40 MMLU subjects of the shared data
are shuffled (seed 0) into 5 groups of 8; per group: train on the other subjects plus
GSM8K and score the whole group (unadapted); then add 400 random rows of the group
(seed 0 + group; the deployment's own labels, weighted like `--domain-data`) and score
the group's other rows (adapted). Groups 0 and 1 chose the model and its settings
(`--tuning` shows them); the reported figures are the mean over groups 2, 3 and 4. Beside
the shipped model (on the static table distilled from MiniLM), the same model on the
contextual MiniLM embedding it replaced, and the logistic regression before that; and a
ceiling no router reaches by telling subjects apart (`subject_ceiling`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from embedding import shared_embedder
from router.complexity import DEFAULT_WEIGHTS_FILE, ComplexityWeights, cheap_features
from router.static_embedding import shared_static_embedder
from router.training.data import LabelledPrompts, cached_embeddings, default_router_data, load_labelled
from router.training.routellm_metrics import RouterMetrics, evaluate
from router.training.train_complexity import DOMAIN_WEIGHT, TOKEN_WINDOW, fit, fit_neighbours
from settings import get_settings

SEED = 0
RANDOM_REPEATS = 20
GROUPS = 5
TUNING_GROUPS = (0, 1)
REPORT_GROUPS = (2, 3, 4)
ADAPTATION_ROWS = 400
#: The contextual MiniLM's settings when it embedded the router's prompts (before the static table).
CONTEXTUAL_TOKENS = 64
CONTEXTUAL_TEMPERATURE = 0.1

#: A router: (training rows, their embeddings, the rows to score, their embeddings) -> scores.
Router = Callable[[LabelledPrompts, np.ndarray, LabelledPrompts, np.ndarray], np.ndarray]


def subject_groups(data: LabelledPrompts, count: int = GROUPS, seed: int = SEED) -> list[list[str]]:
    """The MMLU subjects (`mmlu-<subject>` ids), shuffled with `seed` and dealt into `count` groups."""
    subjects = sorted({group for group in data.groups if group.startswith("mmlu-")})
    shuffled = list(np.random.default_rng(seed).permutation(subjects))
    return [sorted(shuffled[i::count]) for i in range(count)]


def ours(train: LabelledPrompts, train_embeddings: np.ndarray, test: LabelledPrompts, test_embeddings: np.ndarray) -> np.ndarray:
    neighbours, _ = fit(train, train_embeddings)
    return neighbours.predict(test_embeddings)


def contextual(train: LabelledPrompts, train_embeddings: np.ndarray, test: LabelledPrompts,
               test_embeddings: np.ndarray) -> np.ndarray:
    """The same model on the contextual MiniLM embedding of the prompts' first 64 tokens (the router before)."""
    neighbours = fit_neighbours(train_embeddings, train.target, train.row_weight,
                                CONTEXTUAL_TEMPERATURE, CONTEXTUAL_TOKENS)
    return neighbours.predict(test_embeddings)


def fallback(train: LabelledPrompts, train_embeddings: np.ndarray, test: LabelledPrompts, test_embeddings: np.ndarray) -> np.ndarray:
    _, heuristic = fit(train, train_embeddings)
    return heuristic.predict(cheap_features(test.prompts))


def previous_model(train: LabelledPrompts, train_embeddings: np.ndarray, test: LabelledPrompts,
                   test_embeddings: np.ndarray) -> np.ndarray:
    """The router before this one: class-balanced logistic regression (C=0.5) on embedding + cheap
    features, label "strong right and weak wrong", every row counting once."""
    features = np.hstack([train_embeddings, cheap_features(train.prompts)])
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    labels = ((train.strong_score == 1.0) & (train.weak_score == 0.0)).astype(int)
    classifier = LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000).fit((features - mean) / scale, labels)
    return classifier.decision_function((np.hstack([test_embeddings, cheap_features(test.prompts)]) - mean) / scale)


#: Each router and the embedding it reads: "static" (the shipped table) or "contextual" (MiniLM itself).
ROUTERS: dict[str, tuple[Router, str]] = {
    "similarity-weighted, static table (ours)": (ours, "static"),
    "similarity-weighted, contextual MiniLM": (contextual, "contextual"),
    "previous: logistic regression": (previous_model, "contextual"),
    "cheap features (fallback)": (fallback, "static"),
}


#: The row `subject_ceiling` gives in the protocol's table (a bound, not a router).
CEILING = "ceiling: subject's true mean (test labels)"


def random_metrics(data: LabelledPrompts, seed: int = SEED) -> np.ndarray:
    """Mean (CPT50, CPT80, APGR) of `RANDOM_REPEATS` random routers."""
    rng = np.random.default_rng(seed)
    return np.mean([_scored(rng.random(len(data)), data) for _ in range(RANDOM_REPEATS)], axis=0)


def subject_ceiling(data: LabelledPrompts) -> np.ndarray:
    """Each row scored by its subject's true mean target in `data`: it reads the rows' own labels.

    No router can know this; it is the best any router that only tells subjects apart could
    do, so a router above it ranks questions within a subject, and one below it has room left
    at the subject level. Adapting with a subject's labels can at most approach it from there.
    """
    groups = np.asarray(data.groups)
    means = {group: data.target[groups == group].mean() for group in np.unique(groups)}
    return np.array([means[group] for group in groups])


def _figures(metrics: RouterMetrics) -> np.ndarray:
    return np.array([metrics.cpt50, metrics.cpt80, metrics.apgr])


def _scored(scores: np.ndarray, data: LabelledPrompts) -> np.ndarray:
    """(CPT50, CPT80, APGR) of `scores` on `data`'s labels."""
    return _figures(evaluate(scores, data.strong_score, data.weak_score))


def domain_shift(data: LabelledPrompts, embeddings: dict[str, np.ndarray], group: list[str],
                 seed: int) -> dict[str, np.ndarray]:
    """Per router: (CPT50, CPT80, APGR) unadapted on the group, then adapted on its rows not added.

    `embeddings` holds the prompts' embeddings of each kind `ROUTERS` names.
    """
    held = np.isin(data.groups, group)
    train_rows, held_rows = np.flatnonzero(~held), np.flatnonzero(held)
    shuffled = np.random.default_rng(seed).permutation(held_rows)
    added, rest = np.sort(shuffled[:ADAPTATION_ROWS]), np.sort(shuffled[ADAPTATION_ROWS:])
    adapted_rows = np.concatenate([train_rows, added])
    adapted = data.subset(adapted_rows)
    adapted = dataclasses.replace(adapted, row_weight=np.where(np.isin(adapted_rows, added), DOMAIN_WEIGHT, 1.0))
    train_data, held_data, rest_data = data.subset(train_rows), data.subset(held_rows), data.subset(rest)
    results = {
        "random": np.concatenate([random_metrics(held_data, seed), random_metrics(rest_data, seed)]),
        CEILING: np.concatenate([_scored(subject_ceiling(held_data), held_data),
                                 _scored(subject_ceiling(rest_data), rest_data)]),
    }
    for name, (router, kind) in ROUTERS.items():
        vectors = embeddings[kind]
        before = router(train_data, vectors[train_rows], held_data, vectors[held_rows])
        after = router(adapted, vectors[adapted_rows], rest_data, vectors[rest])
        results[name] = np.concatenate([_scored(before, held_data), _scored(after, rest_data)])
    return results


def print_protocol(groups: tuple[int, ...]) -> None:
    data = load_labelled(default_router_data())
    settings = get_settings()
    embeddings = {
        "static": cached_embeddings(data.prompts, shared_static_embedder(settings), max_tokens=TOKEN_WINDOW),
        "contextual": cached_embeddings(data.prompts, shared_embedder(settings), max_tokens=CONTEXTUAL_TOKENS),
    }
    all_groups = subject_groups(data)
    per_group = []
    header = (f"{'router':<42} {'unadapted: CPT50':>16} {'CPT80':>6} {'APGR':>6}   "
              f"{'adapted: CPT50':>14} {'CPT80':>6} {'APGR':>6}   {'gain':>5}")
    for index in groups:
        print(f"\ngroup {index} held out ({np.isin(data.groups, all_groups[index]).sum()} rows): "
              + ", ".join(subject.removeprefix("mmlu-") for subject in all_groups[index]))
        per_group.append(domain_shift(data, embeddings, all_groups[index], SEED + index))
        _print_rows(header, per_group[-1])
    print(f"\nmean over groups {', '.join(map(str, groups))} (train: other subjects + GSM8K; adapted: "
          f"+{ADAPTATION_ROWS} rows of the group counting {DOMAIN_WEIGHT:g}x, scored on its other rows)")
    _print_rows(header, {name: np.mean([g[name] for g in per_group], axis=0) for name in per_group[0]})


def _print_rows(header: str, results: dict[str, np.ndarray]) -> None:
    print(header)
    for name, (u50, u80, uapgr, a50, a80, aapgr) in results.items():
        print(f"{name:<42} {u50:>16.1%} {u80:>6.1%} {uapgr:>6.3f}   {a50:>14.1%} {a80:>6.1%} {aapgr:>6.3f}   "
              f"{aapgr - uapgr:>+5.3f}")


def print_file(paths: list[Path], weights_file: Path) -> None:
    """The configured weights against random and prompt length on labelled files."""
    data = load_labelled(*paths)
    weights = ComplexityWeights.load(weights_file)
    embeddings = cached_embeddings(data.prompts, shared_static_embedder(get_settings()),
                                   max_tokens=weights.neighbours.max_tokens)
    scores = {
        f"{weights_file.name} (similarity-weighted)": weights.neighbours.predict(embeddings),
        f"{weights_file.name} cheap-feature fallback": weights.heuristic.predict(cheap_features(data.prompts)),
        "prompt length": np.array([len(prompt) for prompt in data.prompts], dtype=np.float64),
    }
    strong, weak = data.strong_score.mean(), data.weak_score.mean()
    print(f"{len(data)} labelled prompts; mean score: strong {strong:.3f}, weak {weak:.3f}")
    if strong <= weak:
        print("the strong model is not better than the weak one on these labels: CPT and APGR are undefined")
        return
    print(f"\n{'router':<46} {'CPT(50%)':>9} {'CPT(80%)':>9} {'APGR':>6}")
    cpt50, cpt80, apgr = random_metrics(data)
    print(f"{f'random (mean of {RANDOM_REPEATS})':<46} {cpt50:>9.1%} {cpt80:>9.1%} {apgr:>6.3f}")
    for name, values in scores.items():
        m = evaluate(values, data.strong_score, data.weak_score)
        print(f"{name:<46} {m.cpt50:>9.1%} {m.cpt80:>9.1%} {m.apgr:>6.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, action="append", default=[], help="labelled JSONL to evaluate (repeatable)")
    parser.add_argument("--weights", type=Path, help="weights file (default: COMPLEXITY_WEIGHTS_FILE or the shipped one)")
    parser.add_argument("--protocol", choices=["domain-shift"], default="domain-shift",
                        help="without --data: the domain-shift protocol on the shared MMLU/GSM8K data")
    parser.add_argument("--tuning", action="store_true", help="show the tuning groups instead of the reported ones")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.data if not path.exists()]
    if missing:
        parser.error(f"no data at {', '.join(missing)}")
    try:
        if args.data:
            print_file(args.data, args.weights or get_settings().complexity_weights_file or DEFAULT_WEIGHTS_FILE)
        elif not default_router_data().exists():
            parser.error(f"no shared data at {default_router_data()} (set SHARED_DATA_DIR)")
        else:
            print_protocol(TUNING_GROUPS if args.tuning else REPORT_GROUPS)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
