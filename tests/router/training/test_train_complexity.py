"""Training: several files of both row kinds, deterministic, the deployment's own rows counting more, a loadable file."""

from __future__ import annotations

import numpy as np
import pytest

from router.complexity import ComplexityScorer, ComplexityWeights
from router.training.train_complexity import DOMAIN_WEIGHT, main, train


def scores(weights: ComplexityWeights, embedder, prompts: list[str]) -> list[float]:
    return [s.strong_win_rate for s in ComplexityScorer(weights, lambda: embedder).score_many(prompts)]


MATH = "A shop sells 9 boxes of 13 pens at $8 each; after a 7% discount, how much do 17 boxes cost?"
HELLO = "Say hello to friend number 99."
POEM = "Write a short poem about the colour number 42 of autumn leaves."
LAW = "Under contract law, is a promise number 42 without consideration enforceable if the promisee relied on it?"


def test_a_correctness_file_and_a_preference_file_train_one_model(correctness_file, preference_file, embedder, tmp_path):
    weights = train([correctness_file, preference_file], embedder, cache_dir=tmp_path / "cache")
    assert weights.meta["rows"] == 100 and weights.meta["domain_rows"] == 0
    assert len(weights.meta["data_sha256"]) == 2
    math, hello, poem, law = scores(weights, embedder, [MATH, HELLO, POEM, LAW])
    assert math > hello  # correctness rows: the strong model wins the word problems, greetings are ties
    assert law > poem  # preference rows: users preferred the cloud on law and the local model on poems
    assert poem < 0.5 < law


def test_training_is_deterministic_whatever_the_file_order_and_cache(correctness_file, preference_file, embedder, tmp_path):
    first = train([correctness_file, preference_file], embedder, cache_dir=tmp_path / "a")
    second = train([preference_file, correctness_file], embedder, cache_dir=tmp_path / "b")  # embeds again
    for name in ("embeddings", "targets", "row_weights", "quantiles"):
        np.testing.assert_array_equal(getattr(first.neighbours, name), getattr(second.neighbours, name))
    np.testing.assert_allclose(first.heuristic.coef, second.heuristic.coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(first.heuristic.quantiles, second.heuristic.quantiles, rtol=1e-6, atol=1e-9)
    assert first.meta == second.meta


def test_the_deployments_own_rows_count_more(correctness_file, preference_file, embedder, tmp_path):
    plain = train([correctness_file, preference_file], embedder, cache_dir=tmp_path)
    own = train([correctness_file], embedder, domain_files=[preference_file], cache_dir=tmp_path)
    assert own.meta["domain_rows"] == 40 and set(own.neighbours.row_weights.tolist()) == {1.0, DOMAIN_WEIGHT}
    poem_plain, law_plain = scores(plain, embedder, [POEM, LAW])
    poem_own, law_own = scores(own, embedder, [POEM, LAW])
    assert poem_own < poem_plain and law_own > law_plain


def test_the_command_writes_weights_the_app_loads(correctness_file, preference_file, tmp_path, capsys):
    out = tmp_path / "mine.npz"
    main(["--data", str(correctness_file), "--domain-data", str(preference_file), "--out", str(out),
          "--cache-dir", str(tmp_path / "cache")])
    assert f"wrote {out}" in capsys.readouterr().out
    loaded = ComplexityWeights.load(out)
    assert loaded.meta["rows"] == 100 and loaded.meta["domain_rows"] == 40
    assert loaded.neighbours.embeddings.shape == (100, 128)  # the static table's dimensions


def test_the_command_names_missing_files_and_bad_rows(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path / "absent.jsonl")])
    assert "no data at" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "strong_score": 2, "weak_score": 0}\n')
    with pytest.raises(SystemExit):
        main(["--data", str(bad), "--out", str(tmp_path / "w.npz")])
    assert "bad.jsonl:1" in capsys.readouterr().err and not (tmp_path / "w.npz").exists()
