"""Sentence embeddings, one model per process: knowledge (retrieval) reads it; routing reads a table distilled from it.

`shared_embedder(settings)` loads the offline all-MiniLM-L6-v2 once (ONNX int8 by default,
sentence-transformers when `EMBEDDING_BACKEND=torch`) and hands every caller the same instance.
"""

from embedding._embedder import (
    MAX_TOKENS, Embedder, OnnxEmbedder, TorchEmbedder, encode_heads, load_embedder, shared_embedder,
)
from embedding._onnx_export import ensure_onnx_int8, onnx_int8_path

__all__ = [
    "MAX_TOKENS",
    "Embedder",
    "OnnxEmbedder",
    "TorchEmbedder",
    "encode_heads",
    "ensure_onnx_int8",
    "load_embedder",
    "onnx_int8_path",
    "shared_embedder",
]
