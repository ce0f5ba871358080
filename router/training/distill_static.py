"""Distil the router's static token table from the process-wide MiniLM (the Model2Vec method, MinishLab).

    .venv/bin/python -m router.training.distill_static [--dims 128] [--out FILE.npz]

Each WordPiece token of the model's vocabulary goes alone through the shipped ONNX int8
MiniLM (`[CLS] token [SEP]`, mean pooled as a sentence is; one run per token, so the int8
activations are quantised as for a one-token prompt): 30,522 runs, 1-2 minutes. The outputs
are centred and reduced by PCA to `--dims` dimensions, and stored as int8 rows
(`router/static_embedding.npz`, read by `router.static_embedding`). Model2Vec also weights
each row by SIF over Zipf ranks of the vocabulary; on the tuning groups of the domain-shift
protocol that lowered unadapted APGR (0.684-0.708 instead of 0.743 at 256 dimensions), so
rows are not weighted. The raw per-token outputs are cached under data/cache, so trying
other dimensions takes seconds; the same model always gives the same table (no randomness:
PCA by full SVD, each component's sign fixed).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from embedding import OnnxEmbedder, shared_embedder
from router.static_embedding import DEFAULT_TABLE_FILE, save_table
from router.training.data import DEFAULT_CACHE_DIR
from settings import get_settings

#: PCA dimensions: on the tuning groups 128 did as well as 256 (APGR 0.746 / 0.774 vs 0.743 / 0.772) at half the size.
DIMS = 128


def token_outputs(embedder: OnnxEmbedder, cache_dir: Path = DEFAULT_CACHE_DIR) -> np.ndarray:
    """(vocabulary, 384) mean-pooled model output of each token alone, computed once per model, then cached."""
    size = embedder.vocabulary_size
    key = hashlib.sha256(f"{embedder.name} {size}".encode()).hexdigest()[:16]
    cached = cache_dir / f"static-token-outputs-{key}.npy"
    if cached.exists():
        return np.load(cached, allow_pickle=False)
    rows = np.zeros((size, embedder.dimension), dtype=np.float32)
    started = time.perf_counter()
    for token in range(size):
        rows[token] = embedder.pooled_output([token])
        if token and token % 5000 == 0:
            print(f"  {token:,} of {size:,} tokens ({time.perf_counter() - started:.0f} s)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial.npy")
    np.save(partial, rows, allow_pickle=False)
    partial.replace(cached)
    return rows


def distil(outputs: np.ndarray, dims: int = DIMS) -> np.ndarray:
    """PCA to `dims`: centred, full SVD, each component's sign fixed (its largest entry positive)."""
    centred = outputs.astype(np.float64) - outputs.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:dims]
    components *= np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])[:, None]
    return (centred @ components.T).astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, default=DIMS)
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE_FILE, help="table file to write")
    args = parser.parse_args(argv)
    embedder = shared_embedder(get_settings())
    if not isinstance(embedder, OnnxEmbedder):
        parser.error("distillation runs the ONNX int8 model (EMBEDDING_BACKEND=onnx-int8)")
    started = time.perf_counter()
    outputs = token_outputs(embedder)
    table = distil(outputs, args.dims)
    save_table(table, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {table.shape[0]:,} tokens x {table.shape[1]} "
          f"dimensions, in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
