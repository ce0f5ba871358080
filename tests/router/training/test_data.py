"""Labelled data: both row kinds in and across files, one fixed order, a clear error per bad line, a per-prompt cache."""

from __future__ import annotations

import numpy as np
import pytest

from router.training.data import cached_embeddings, load_labelled
from tests.router.training.conftest import write_jsonl


def test_correctness_and_preference_rows_become_one_target(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [
        {"id": "b", "prompt": "strong only", "strong_correct": True, "weak_correct": False},
        {"id": "a", "prompt": "weak only", "strong_correct": False, "weak_correct": True},
        {"id": "d", "prompt": "both fine", "strong_score": 1.0, "weak_score": 1.0},
        {"id": "c", "prompt": "strong a bit better", "strong_score": 0.8, "weak_score": 0.4},
    ])
    data = load_labelled(path)
    assert data.ids == ["a", "b", "c", "d"]
    np.testing.assert_allclose(data.target, [0.0, 1.0, 0.7, 0.5])
    np.testing.assert_allclose(data.row_weight, 1.0)


def test_files_combine_in_the_same_order_whatever_their_order(correctness_file, preference_file):
    forward = load_labelled(correctness_file, preference_file)
    backward = load_labelled(preference_file, correctness_file)
    assert forward.ids == backward.ids == sorted(forward.ids) and len(forward) == 100
    np.testing.assert_array_equal(forward.target, backward.target)


def test_weighted_files_carry_their_weight(correctness_file, preference_file):
    data = load_labelled(correctness_file, weighted=[(preference_file, 10.0)])
    from_feedback = np.array([row_id.startswith("fb-") for row_id in data.ids])
    assert np.all(data.row_weight[from_feedback] == 10.0) and np.all(data.row_weight[~from_feedback] == 1.0)


@pytest.mark.parametrize(("row", "why"), [
    ('{"id": "b"}', "expected id, prompt and either"),
    ('{"id": "b", "prompt": "x", "strong_score": 1.5, "weak_score": 0}', "between 0 and 1"),
    ('{"id": "b", "prompt": "x", "strong_score": "NaN", "weak_score": 0}', "between 0 and 1"),
    ('{"id": "b", "prompt": "x", "strong_correct": "yes", "weak_correct": false}', "true or false"),
    ("not json", "expected id, prompt"),
])
def test_bad_rows_are_rejected_with_their_line(tmp_path, row, why):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "strong_correct": true, "weak_correct": false}\n' + row + "\n")
    with pytest.raises(ValueError, match=rf"bad.jsonl:2: .*{why}"):
        load_labelled(bad)


def test_no_rows_and_no_files_are_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="has no rows"):
        load_labelled(tmp_path / "empty.jsonl")
    with pytest.raises(ValueError, match="no labelled data files"):
        load_labelled()


def test_the_cache_keeps_each_prompt_and_embeds_only_new_ones(embedder, tmp_path):
    first = cached_embeddings(["What is an eigenvector?", "hello"], embedder, tmp_path)
    assert first.shape == (2, embedder.dimension)
    [folder] = tmp_path.iterdir()
    stamp = (folder / "vectors.npy").stat().st_mtime_ns
    again = cached_embeddings(["hello", "What is an eigenvector?"], embedder, tmp_path)
    assert (folder / "vectors.npy").stat().st_mtime_ns == stamp  # nothing new: the file was not rewritten
    np.testing.assert_array_equal(again, first[::-1])
    grown = cached_embeddings(["hello", "Why is the sky blue?"], embedder, tmp_path)
    np.testing.assert_array_equal(grown[0], first[1])
    assert len(np.load(folder / "prompts.npy")) == 3
    np.testing.assert_allclose(grown[1], embedder.embed(["Why is the sky blue?"], batch_size=1)[0], atol=1e-6)
