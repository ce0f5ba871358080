"""Set up the in-browser demo page once: its npm packages and an ONNX copy of the embedding model.

The page at /webgpu runs everything in the browser, so every file it needs must be
served by the app itself: wllama and transformers.js come from `webgpu-demo/node_modules`
(installed from the committed lock with `--ignore-scripts`, because onnxruntime-node's
post-install step downloads binaries and fails offline), and transformers.js needs the
MiniLM model as ONNX, exported here from the sentence-transformers package with
`torch.onnx.export` (optimum would downgrade transformers). Both steps are skipped when
their result is already there, so `make run` stays quick.

Run: `.venv/bin/python -m scripts.prepare_webgpu_demo`
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from settings import Settings, get_settings
from webgpu_demo_server import DEMO_DIR, NODE_MODULES, minilm_onnx_dir

_LOCK_STAMP = NODE_MODULES / ".hybrid-chat-lock.sha256"
_ONNX_OPSET = 17
# Files transformers.js reads from a Hugging Face style model folder.
_TOKENIZER_FILES = ("config.json", "tokenizer.json", "special_tokens_map.json")


class DemoPreparationError(RuntimeError):
    """The demo page could not be set up; the message says what to do."""


def _lock_digest() -> str:
    return hashlib.sha256((DEMO_DIR / "package-lock.json").read_bytes()).hexdigest()


def npm_packages_installed() -> bool:
    """True when node_modules was installed from the current package-lock.json."""
    return _LOCK_STAMP.is_file() and _LOCK_STAMP.read_text().strip() == _lock_digest()


def install_npm_packages(progress=print) -> None:
    """`npm ci --ignore-scripts` from the committed lock, unless already done for this lock."""
    if npm_packages_installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DemoPreparationError("npm is not installed: install Node.js 20+ (Debian: apt-get install nodejs npm).")
    progress("Installing the demo page's npm packages (webgpu-demo/node_modules)...")
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    result = subprocess.run(command, cwd=DEMO_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoPreparationError(f"npm ci failed in {DEMO_DIR}:\n{result.stderr[-2000:]}")
    _LOCK_STAMP.write_text(_lock_digest() + "\n")


def _sentence_transformers_max_length(model_dir: Path) -> int:
    """The truncation length sentence-transformers uses, so the browser truncates the same way."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text())["max_seq_length"])
    return int(json.loads((model_dir / "tokenizer_config.json").read_text())["model_max_length"])


def _check_mean_pooling(model_dir: Path) -> None:
    """The page does mean pooling + L2 normalisation; refuse a model configured otherwise."""
    modules = json.loads((model_dir / "modules.json").read_text())
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens"):
        raise DemoPreparationError(
            f"The embedding model in {model_dir} is not Transformer + mean Pooling + Normalize; "
            "the demo page cannot reproduce its embeddings."
        )


def _export_onnx(model_dir: Path, onnx_path: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class _KeywordCall(torch.nn.Module):
        """torch.onnx.export passes positional inputs; BERT's forward needs them by name."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(model_dir).eval()
    sample = AutoTokenizer.from_pretrained(model_dir)(["a sample sentence", "another one"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic = {0: "batch", 1: "sequence"}
    onnx_path.parent.mkdir(parents=True)
    with torch.no_grad():
        torch.onnx.export(
            _KeywordCall(model),
            tuple(sample[name] for name in names),
            str(onnx_path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**{name: dynamic for name in names}, "last_hidden_state": dynamic},
            opset_version=_ONNX_OPSET,
            dynamo=False,
        )


def export_embedding_model(settings: Settings, progress=print) -> Path:
    """Write the ONNX MiniLM folder for transformers.js unless it exists. Returns the folder.

    Built in a temporary folder renamed at the end, so an interrupted export leaves nothing behind.
    """
    target = minilm_onnx_dir(settings)
    if (target / "onnx" / "model.onnx").is_file():
        return target
    model_dir = Path(settings.embedding_model_path)
    _check_mean_pooling(model_dir)
    progress(f"Exporting the embedding model to ONNX for the demo page ({target})...")
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as scratch:
        build = Path(scratch) / "model"
        _export_onnx(model_dir, build / "onnx" / "model.onnx")
        for name in _TOKENIZER_FILES:
            shutil.copy2(model_dir / name, build / name)
        tokenizer_config = json.loads((model_dir / "tokenizer_config.json").read_text())
        tokenizer_config["model_max_length"] = _sentence_transformers_max_length(model_dir)
        (build / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
        build.rename(target)
    progress(f"Exported in {time.perf_counter() - started:.0f} s.")
    return target


def prepare(settings: Settings, progress=print) -> None:
    """Everything the demo page needs; quick when already done."""
    install_npm_packages(progress)
    export_embedding_model(settings, progress)


def main() -> int:
    try:
        prepare(get_settings())
    except DemoPreparationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
