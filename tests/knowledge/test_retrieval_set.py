"""The retrieval evaluation set (bench/retrieval_set): well formed, gold pages that hold their evidence, and
retrieval that finds them on the smallest manual (the whole set is measured by bench/bench_knowledge.py)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from bench.bench_knowledge import MANUALS, load_questions, rank_of_gold
from knowledge import KnowledgeBase
from knowledge._pdf import read_pdf

QUESTIONS = load_questions("all")
ANSWERABLE = [q for q in QUESTIONS if q["document"]]


def manual_path(document: str):
    package, path = MANUALS[document]
    if not path.exists():
        pytest.skip(f"{path} is missing: install the Debian package {package} (make test installs it)")
    return path


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).lower()


def test_the_set_has_150_questions_over_three_manuals_and_a_held_out_third():
    assert len(ANSWERABLE) >= 150
    assert len({q["document"] for q in ANSWERABLE}) >= 3 and {q["document"] for q in ANSWERABLE} <= set(MANUALS)
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    assert len({q["question"] for q in QUESTIONS}) == len(QUESTIONS)
    splits = Counter(q["split"] for q in ANSWERABLE)
    assert set(splits) == {"tuning", "heldout"} and splits["heldout"] >= len(ANSWERABLE) / 3
    unrelated = [q for q in QUESTIONS if not q["document"]]
    assert {q["split"] for q in unrelated} == {"tuning", "heldout"}


@pytest.mark.parametrize("document", sorted(MANUALS))
def test_each_gold_page_holds_its_evidence_and_the_question_does_not_copy_it(document):
    pages = {page.number: flat(page.text) for page in read_pdf(manual_path(document).read_bytes(), max_mb=50,
                                                                max_pages=5000).pages}
    for q in (q for q in ANSWERABLE if q["document"] == document):
        assert flat(q["evidence"]) in pages[q["page"]], q["id"]
        assert flat(q["question"]).rstrip("?") not in pages[q["page"]], q["id"]  # written, not copied


async def test_hybrid_retrieval_finds_the_gold_page_of_the_smallest_manual(kb: KnowledgeBase):
    document = "camlidl-1.04.doc.pdf"
    await kb.ingest_pdf("eval", "bench", document, manual_path(document).read_bytes())
    questions = [q for q in ANSWERABLE if q["document"] == document]
    ranks = []
    for q in questions:
        passages = await kb.retrieve("eval", q["question"], k=5)
        ranks.append(rank_of_gold([(p.document, p.page) for p in passages], q))
    found = sum(rank is not None for rank in ranks)
    assert found / len(questions) >= 0.9, f"recall@5 {found}/{len(questions)}"
