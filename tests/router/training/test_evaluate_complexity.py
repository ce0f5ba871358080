"""evaluate_complexity: CPT/APGR of the weights on any labelled file, and the domain-shift protocol's fixed groups."""

from __future__ import annotations

import re

import numpy as np
import pytest

from router.training.data import LabelledPrompts
from router.training.evaluate_complexity import main, subject_ceiling, subject_groups
from router.training.train_complexity import train
from tests.router.training.conftest import write_jsonl


def test_a_labelled_file_is_scored_against_random(correctness_file, preference_file, embedder, tmp_path, capsys):
    weights = tmp_path / "w.npz"
    train([correctness_file, preference_file], embedder, cache_dir=tmp_path).save(weights)
    main(["--data", str(correctness_file), "--data", str(preference_file), "--weights", str(weights)])
    out = capsys.readouterr().out
    assert "100 labelled prompts" in out, out
    figures = {name.strip(): float(apgr) for name, apgr in re.findall(r"^(.+?)\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)$", out, re.M)}
    assert figures["random (mean of 20)"] < figures["w.npz (similarity-weighted)"]  # it was trained on these labels


def test_labels_where_the_strong_model_is_not_better_are_explained(tmp_path, capsys):
    path = write_jsonl(tmp_path / "weak.jsonl", [
        {"id": f"r{i}", "prompt": f"Name a fruit, number {i}.", "strong_score": 0.0, "weak_score": 1.0} for i in range(5)])
    main(["--data", str(path)])
    assert "CPT and APGR are undefined" in capsys.readouterr().out


def test_the_protocols_subject_groups_are_fixed_and_cover_every_subject_once():
    subjects = [f"mmlu-s{i:02d}" for i in range(40)]
    data = LabelledPrompts([f"{s}-0" for s in subjects] + ["gsm8k-1"], [""] * 41, [""] * 41,
                           np.ones(41), np.zeros(41), np.ones(41))
    groups = subject_groups(data)
    assert groups == subject_groups(data) and [len(g) for g in groups] == [8] * 5
    assert sorted(s for g in groups for s in g) == subjects  # GSM8K always trains


def test_the_subject_ceiling_scores_each_row_by_its_subjects_true_mean_target():
    ids = ["mmlu-easy-0", "mmlu-easy-1", "mmlu-hard-0", "mmlu-hard-1", "mmlu-hard-2"]
    strong, weak = np.array([1.0, 1.0, 1.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    data = LabelledPrompts(ids, [""] * 5, [""] * 5, strong, weak, np.ones(5))
    hard = (1.0 + 0.5 + 0.5) / 3  # targets 1, 0.5, 0.5: the strong model gains on one of three
    assert subject_ceiling(data) == pytest.approx([0.5, 0.5, hard, hard, hard])
