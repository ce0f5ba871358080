"""The router's prompt embedding: a static token table distilled from the same MiniLM, in microseconds.

The contextual MiniLM (ONNX int8, `embedding.shared_embedder`) costs ~1.5 ms of CPU for any
prompt and ~4 ms at 30 tokens: more than the whole decision may take. The table in
`static_embedding.npz` holds, per WordPiece token, that model's output for the token alone,
reduced by PCA (the Model2Vec method, written by `router/training/distill_static.py`); a
prompt's embedding is the normalised mean of its tokens' rows. The knowledge base keeps the
contextual model; only routing reads this table, loaded once per process on first use.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from embedding import Embedder, encode_heads
from settings import Settings

DEFAULT_TABLE_FILE = Path(__file__).with_name("static_embedding.npz")
#: Rows are stored as int8 times a per-row scale (a quarter of float32's size).
INT8_SCALE = 127.0


class StaticEmbedder(Embedder):
    """Mean of the prompt's token rows, normalised; the model's own tokenizer, without [CLS]/[SEP]."""

    def __init__(self, model_path: str, table_file: Path = DEFAULT_TABLE_FILE) -> None:
        from tokenizers import Tokenizer

        if not (Path(model_path) / "tokenizer.json").is_file():
            raise FileNotFoundError(f"no sentence-transformers model folder at {model_path}")
        raw = table_file.read_bytes()
        super().__init__(model_path, f"static-{hashlib.sha256(raw).hexdigest()[:12]}")
        with np.load(table_file, allow_pickle=False) as data:
            rows, scales = data["rows"], data["scales"]
        self._table = np.ascontiguousarray(rows.astype(np.float32) * (scales[:, None] / INT8_SCALE))
        self.dimension = int(self._table.shape[1])
        self._tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        if self._tokenizer.get_vocab_size() != len(self._table):
            raise ValueError(f"{table_file.name} has {len(self._table)} rows, the tokenizer "
                             f"{self._tokenizer.get_vocab_size()} tokens: distil it again")
        self._unknown = self._tokenizer.token_to_id("[UNK]")

    def token_ids(self, text: str, max_tokens: int) -> list[int]:
        """The first `max_tokens` known tokens of `text` (only its beginning is tokenised when that suffices)."""
        ids = encode_heads(self._tokenizer, [text], max_tokens, add_special_tokens=False)[0].ids
        return [token for token in ids if token != self._unknown][:max_tokens]

    def _encode(self, batch: list[str], max_tokens: int) -> np.ndarray:
        vectors = np.zeros((len(batch), self.dimension), dtype=np.float32)
        for row, text in enumerate(batch):
            ids = self.token_ids(text, max_tokens)
            if ids:
                vectors[row] = self._table[ids].mean(axis=0)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def save_table(table: np.ndarray, path: Path) -> None:
    """Write a (vocabulary, dims) float table as int8 rows with per-row scales (compressed, no pickle)."""
    scales = np.maximum(np.abs(table).max(axis=1), 1e-12).astype(np.float32)
    rows = np.round(table / scales[:, None] * INT8_SCALE).astype(np.int8)
    with path.open("wb") as handle:
        np.savez_compressed(handle, rows=rows, scales=scales)


_shared: dict[tuple[str, Path], StaticEmbedder] = {}
_shared_lock = threading.Lock()


def shared_static_embedder(settings: Settings, table_file: Path = DEFAULT_TABLE_FILE) -> StaticEmbedder:
    """One table per process (the app, training, evaluation and tests share it)."""
    key = (settings.embedding_model_path, table_file)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = StaticEmbedder(settings.embedding_model_path, table_file)
        return _shared[key]
