"""The privacy scan measured as in the closing report: recall on the held-out part, false flags on ordinary prompts."""

from __future__ import annotations

import pytest

from router.training.data import default_router_data, shared_data_dir
from router.training.evaluate_privacy import OVERALL, false_positives, main, measure_recall
from router.training.indonesian_cases import generate
from router.training.privacy_data import part_of, presidio_sentences, router_prompts

needs_shared_data = pytest.mark.skipif(
    not (shared_data_dir() / "privacy").exists() or not default_router_data().exists(),
    reason=f"shared data not found at {shared_data_dir()} (set SHARED_DATA_DIR)")


def test_indonesian_cases_are_deterministic_and_cover_every_kind():
    first, second = generate(60, "tune", seed=7), generate(60, "tune", seed=7)
    assert first == second and generate(60, "tune", seed=8) != first
    assert {case.kind for case in first} >= {"nik", "npwp", "bank_account", "passport", "phone", "street_address", ""}


def test_the_two_indonesian_parts_share_no_sentence():
    tune, report = generate(400, "tune"), generate(400, "report")
    assert {case.kind for case in tune} == {case.kind for case in report}
    assert not {case.text for case in tune} & {case.text for case in report}


def test_the_split_is_stable_and_roughly_even():
    assert part_of("presidio template") == part_of("presidio template")
    parts = [part_of(f"id-{number}") for number in range(2000)]
    assert 0.4 < parts.count("tune") / len(parts) < 0.6


@needs_shared_data
def test_presidio_sentences_of_one_template_stay_on_one_side():
    tune, report = presidio_sentences("tune"), presidio_sentences("report")
    assert len(tune) + len(report) == 750
    assert not {s.template for s in tune} & {s.template for s in report}
    assert not set(router_prompts("tune")) & set(router_prompts("report"))


@needs_shared_data
def test_held_out_recall_and_false_private_rate():
    recall = measure_recall("report", 300)
    assert recall.per_kind.rate(OVERALL) >= 0.97
    for kind in ("nik", "npwp", "bank_account", "passport", "phone", "payment_card", "email", "iban"):
        assert recall.per_kind.rate(kind) >= 0.95, (kind, recall.per_kind.missed.get(kind))
    assert recall.ordinary.rate("presidio") == 1.0 and recall.ordinary.rate("indonesian") == 1.0
    _per_kind, flagged, total, _prompts = false_positives("report")
    assert flagged / total <= 0.03


@needs_shared_data
def test_the_command_prints_the_figures_to_quote(capsys):
    main(["--indonesian", "60"])
    out = capsys.readouterr().out
    assert "part: report" in out and OVERALL in out and "false-private" in out
