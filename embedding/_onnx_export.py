"""Export the sentence-transformers model to ONNX with int8 weights, once, into DATA_DIR/models.

Measured here (2 shared cores, ~180-token chunks, interleaved with torch): 1.9-2.4x the
chunks/s of torch, cosine 0.99 on average to torch's vectors with per-channel weight
quantisation (per-tensor: 0.94, too lossy), and the same recall@5 on tests/knowledge/samples/questions.jsonl (see bench/bench_knowledge.py).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def onnx_int8_path(model_path: str, models_dir: Path) -> Path:
    """Where the exported model of `model_path` lives (one file per source model)."""
    key = hashlib.sha256(str(Path(model_path).resolve()).encode()).hexdigest()[:12]
    return models_dir / "embedding-onnx" / f"{Path(model_path).name}-{key}-int8.onnx"


def ensure_onnx_int8(model_path: str, models_dir: Path) -> Path:
    """The int8 ONNX file, exported on first use (~30 s); concurrent exporters never see half a file."""
    target = onnx_int8_path(model_path, models_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        fp32 = Path(work) / "model.onnx"
        _export_fp32(model_path, fp32)
        int8 = Path(work) / "model-int8.onnx"
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(int8, target)  # atomic: readers see no file or the whole file
    return target


def _export_fp32(model_path: str, destination: Path) -> None:
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        """The ONNX exporter passes positional inputs; BERT wants keywords."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(model_path, local_files_only=True).eval()
    sample = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(destination),
            input_names=INPUTS,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
