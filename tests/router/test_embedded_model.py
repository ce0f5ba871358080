"""Preparing the embedded model: generation defaults that keep SmolLM2 from looping reach every folder."""

from __future__ import annotations

import json

from router.embedded_model import (
    REPETITION_PENALTY, embedded_model_dir, is_prepared, prepare_embedded_model, set_search_defaults,
)


def converted_folder(models_dir, **search):
    """A folder as an earlier conversion left it (the builder's search section, the ready marker)."""
    folder = embedded_model_dir(models_dir)
    folder.mkdir(parents=True)
    config = {"model": {"type": "llama"}, "search": {"repetition_penalty": 1.0, "top_k": 50, **search}}
    (folder / "genai_config.json").write_text(json.dumps(config))
    (folder / "hybrid-chat-prepared.json").write_text(json.dumps({"recipe": 1, "source": "x.gguf"}))
    return folder


def test_a_folder_converted_earlier_gets_the_repetition_penalty_without_a_new_conversion(tmp_path):
    folder = converted_folder(tmp_path)
    assert is_prepared(folder)

    assert prepare_embedded_model(tmp_path, progress=lambda line: None) == folder

    config = json.loads((folder / "genai_config.json").read_text())
    assert config["search"] == {"repetition_penalty": REPETITION_PENALTY, "top_k": 50}, "only that default changes"
    assert config["model"] == {"type": "llama"}
    assert REPETITION_PENALTY > 1.0


def test_defaults_already_set_leave_the_file_untouched(tmp_path):
    folder = converted_folder(tmp_path, repetition_penalty=REPETITION_PENALTY)
    config_path = folder / "genai_config.json"
    before = config_path.stat().st_mtime_ns, config_path.read_text()

    set_search_defaults(folder, repetition_penalty=REPETITION_PENALTY)

    assert (config_path.stat().st_mtime_ns, config_path.read_text()) == before
    assert not list(folder.glob("*.tmp"))
