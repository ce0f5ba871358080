"""Train the complexity router and write its weights file.

    .venv/bin/python -m router.training.train_complexity [--data FILE.jsonl] [--out FILE.npz]

The data is JSONL `{"id", "prompt", "strong_correct", "weak_correct"}` (default:
`../shared/data/router/train_mmlu_gsm8k.jsonl`); bring your own with the same fields.
The label is "the strong model was right and the weak one wrong". Rows are sorted by
id, the solver is deterministic and embeddings are cached under data/cache, so a rerun
on the same data writes the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from router.complexity import (
    CHEAP_FEATURES, DEFAULT_WEIGHTS_FILE, QUANTILE_GRID, ComplexityWeights, LinearModel, cheap_features,
    embedding_features,
)
from router.training.data import DEFAULT_CACHE_DIR, cached_embeddings, default_router_data, load_labelled
from router.training.export_feedback import feedback_data_files
from settings import get_settings

#: Inverse regularisation strength; cross-validated APGR is flat from 0.05 to 2 (evaluate_complexity.py --sweep).
EMBEDDING_C = 0.5
HEURISTIC_C = 1.0


def fit_linear(features: np.ndarray, labels: np.ndarray, c: float) -> LinearModel:
    """Standardise, fit a class-balanced logistic regression, record its score quantiles."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="lbfgs")
    classifier.fit((features - mean) / scale, labels)
    model = LinearModel(classifier.coef_[0].copy(), float(classifier.intercept_[0]), mean, scale, np.zeros(101))
    quantiles = np.quantile(model.predict(features), QUANTILE_GRID)
    return LinearModel(model.coef, model.intercept, mean, scale, quantiles)


def train(data: Path, embedder_path: str, cache_dir: Path = DEFAULT_CACHE_DIR) -> ComplexityWeights:
    labelled = load_labelled(data)
    embeddings = cached_embeddings(labelled.prompts, embedder_path, cache_dir)
    labels = labelled.strong_wins
    embedding_model = fit_linear(embedding_features(embeddings, labelled.prompts), labels, EMBEDDING_C)
    heuristic_model = fit_linear(cheap_features(labelled.prompts), labels, HEURISTIC_C)
    meta = {
        "version": 1,
        "embedder": Path(embedder_path).name if Path(embedder_path).name != "model" else Path(embedder_path).parent.name,
        "embedding_dim": int(embeddings.shape[1]),
        "cheap_features": list(CHEAP_FEATURES),
        "label": "strong_correct and not weak_correct",
        "rows": len(labelled),
        "positive_share": round(float(labels.mean()), 4),
        "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        "embedding_C": EMBEDDING_C,
        "heuristic_C": HEURISTIC_C,
    }
    return ComplexityWeights(embedding_model, heuristic_model, meta)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_router_data(), help="labelled JSONL")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_FILE, help="weights file to write")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache")
    parser.add_argument("--from-feedback", action="store_true",
                        help="add this deployment's comparisons and thumbs (export_feedback) as one more --domain-data")
    args = parser.parse_args(argv)
    if args.from_feedback:
        args.domain_data += feedback_data_files()
    if not args.data.exists():
        parser.error(f"no data at {args.data} (set SHARED_DATA_DIR or pass --data)")
    weights = train(args.data, get_settings().embedding_model_path, args.cache_dir)
    weights.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {weights.meta['rows']} prompts, "
          f"positive share {weights.meta['positive_share']}")


if __name__ == "__main__":
    main()
