"""The privacy scan measured as in the closing report: recall on labelled data, false flags on ordinary prompts."""

from __future__ import annotations

import pytest

from router.training.data import default_router_data, shared_data_dir
from router.training.evaluate_privacy import false_positives, indonesian_recall, presidio_recall
from router.training.indonesian_cases import generate

needs_shared_data = pytest.mark.skipif(
    not (shared_data_dir() / "privacy").exists() or not default_router_data().exists(),
    reason=f"shared data not found at {shared_data_dir()} (set SHARED_DATA_DIR)")


def test_indonesian_cases_are_deterministic_and_cover_every_kind():
    first, second = generate(60, seed=7), generate(60, seed=7)
    assert first == second and generate(60, seed=8) != first
    assert {case.kind for case in first} >= {"nik", "npwp", "phone", "street_address", ""}


def test_indonesian_recall_per_kind_and_no_false_flags():
    flagged, exact = indonesian_recall(200)
    for kind in exact.total:
        if kind.startswith("(ordinary"):
            assert flagged.rate(kind) == 0.0
        else:
            assert exact.rate(kind) >= 0.95, (kind, exact.rate(kind))


@needs_shared_data
def test_presidio_recall_and_router_prompt_false_positives():
    sentences, per_type, ordinary_flagged, _ordinary = presidio_recall()
    assert sentences.rate("beyond a name") >= 0.9
    for presidio_type in ("CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER", "US_SSN"):
        assert per_type.rate(presidio_type) >= 0.95, presidio_type
    assert ordinary_flagged == 0
    per_kind, flagged, total = false_positives()
    assert flagged / total < 0.01
    assert max(per_kind.values()) / total < 0.006
