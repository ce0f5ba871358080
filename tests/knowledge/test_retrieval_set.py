"""The retrieval evaluation set (bench/retrieval_set): well formed, gold pages that hold their evidence, and
retrieval that finds them on the smallest manual (the whole set is measured by bench/bench_knowledge.py).

questions_fresh.jsonl to questions_fresh5.jsonl are later sets that nobody tuned on: they get the same checks of form
and evidence, and stricter ones, but no retrieval runs on them here, so a test can never become a way of tuning against
them."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from bench.bench_knowledge import MANUALS, load_questions, rank_of_gold
from knowledge import KnowledgeBase
from knowledge._pdf import read_pdf

QUESTIONS = load_questions("all")
ANSWERABLE = [q for q in QUESTIONS if q["document"]]
SET_DIR = Path(__file__).resolve().parents[2] / "bench" / "retrieval_set"
FRESH_SPLITS = ("fresh", "fresh2", "fresh3", "fresh4", "fresh5")  # in the order written
# These, written long after every page of the smallest manual carried questions, may reuse an earlier gold page, but
# only to ask about a different point of it
MAY_REUSE_A_PAGE = ("fresh3", "fresh4", "fresh5")
# The others avoid the large manuals' gold pages of the sets before them too. fresh5 came after every gnuplot and
# Asymptote page that answers anything was a gold page, so it reuses them under the rule above, one question a page
MAY_REUSE_A_LARGE_MANUAL_PAGE = ("fresh5",)
FRESH_SETS = {split: [json.loads(line) for line in (SET_DIR / f"questions_{split}.jsonl").read_text().splitlines()
                      if line.strip()]
              for split in FRESH_SPLITS}
FRESH = [q for questions in FRESH_SETS.values() for q in questions]
FRESH_ANSWERABLE = [q for q in FRESH if q["document"]]
SMALLEST_MANUAL = "camlidl-1.04.doc.pdf"  # its 26 pages all carry questions.jsonl questions


def manual_path(document: str):
    package, path = MANUALS[document]
    if not path.exists():
        pytest.skip(f"{path} is missing: install the Debian package {package} (make test installs it)")
    return path


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).lower()


def longest_shared_run(question: str, page: str) -> int:
    """How many consecutive words of the question appear, in order, on the page."""
    words, text = re.findall(r"\S+", flat(question)), " " + " ".join(re.findall(r"\S+", flat(page))) + " "
    longest = 0
    for start in range(len(words)):
        while start + longest < len(words) and f" {' '.join(words[start:start + longest + 1])} " in text:
            longest += 1
    return longest


def test_the_set_has_150_questions_over_three_manuals_and_a_held_out_third():
    assert len(ANSWERABLE) >= 150
    assert len({q["document"] for q in ANSWERABLE}) >= 3 and {q["document"] for q in ANSWERABLE} <= set(MANUALS)
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    assert len({q["question"] for q in QUESTIONS}) == len(QUESTIONS)
    splits = Counter(q["split"] for q in ANSWERABLE)
    assert set(splits) == {"tuning", "heldout"} and splits["heldout"] >= len(ANSWERABLE) / 3
    unrelated = [q for q in QUESTIONS if not q["document"]]
    assert {q["split"] for q in unrelated} == {"tuning", "heldout"}


@pytest.mark.parametrize("split", FRESH_SPLITS)
def test_each_fresh_set_has_75_new_questions_over_the_same_manuals_in_the_same_form(split):
    questions = FRESH_SETS[split]
    answerable = [q for q in questions if q["document"]]
    assert len(answerable) >= 75
    per_manual = Counter(q["document"] for q in answerable)
    assert set(per_manual) == set(MANUALS) and min(per_manual.values()) >= 5
    assert all(set(q) == set(QUESTIONS[0]) and q["split"] == split and q["id"].startswith(f"{split}-")
               for q in questions)
    assert all(isinstance(q["page"], int) and q["evidence"] for q in answerable)
    assert [q for q in questions if not q["document"]] and all(
        q["page"] is None and q["evidence"] is None for q in questions if not q["document"])


def test_ids_and_questions_are_unique_across_all_the_sets():
    every = QUESTIONS + FRESH
    assert [i for i, n in Counter(q["id"] for q in every).items() if n > 1] == []
    assert [t for t, n in Counter(flat(q["question"]) for q in every).items() if n > 1] == []


def written_before(split: str) -> list[dict]:
    return QUESTIONS + [q for before in FRESH_SPLITS[:FRESH_SPLITS.index(split)] for q in FRESH_SETS[before]]


@pytest.mark.parametrize("split", [split for split in FRESH_SPLITS if split not in MAY_REUSE_A_LARGE_MANUAL_PAGE])
def test_the_fresh_gold_pages_of_the_large_manuals_are_pages_no_earlier_set_used(split):
    used = {(q["document"], q["page"]) for q in written_before(split) if q["document"]}
    large = [q for q in FRESH_SETS[split] if q["document"] not in (None, SMALLEST_MANUAL)]
    assert [q["id"] for q in large if (q["document"], q["page"]) in used] == []


@pytest.mark.parametrize("split", MAY_REUSE_A_LARGE_MANUAL_PAGE)
def test_a_set_that_reuses_the_large_manuals_pages_asks_one_question_a_page(split):
    pages = Counter((q["document"], q["page"]) for q in FRESH_SETS[split] if q["document"])
    assert [page for page, n in pages.items() if n > 1] == []


@pytest.mark.parametrize("split", MAY_REUSE_A_PAGE)
def test_a_fresh_question_on_an_earlier_gold_page_asks_about_a_different_point_of_it(split):
    """On a page an earlier set already asks about (any manual), the evidence phrase neither contains nor is
    contained in any earlier evidence phrase of that page, and the question shares no 6 consecutive words with
    an earlier question on it."""
    earlier: dict[tuple[str, int], list[dict]] = {}
    for q in written_before(split):
        if q["document"]:
            earlier.setdefault((q["document"], q["page"]), []).append(q)
    for q in (q for q in FRESH_SETS[split] if q["document"]):
        for before in earlier.get((q["document"], q["page"]), []):
            new, old = flat(q["evidence"]), flat(before["evidence"])
            assert new not in old and old not in new, (q["id"], before["id"])
            assert longest_shared_run(q["question"], before["question"]) < 6, (q["id"], before["id"])


@pytest.mark.parametrize("document", sorted(MANUALS))
def test_each_gold_page_holds_its_evidence_and_the_question_does_not_copy_it(document):
    pages = {page.number: flat(page.text) for page in read_pdf(manual_path(document).read_bytes(), max_mb=50,
                                                                max_pages=5000).pages}
    for q in (q for q in ANSWERABLE + FRESH_ANSWERABLE if q["document"] == document):
        assert flat(q["evidence"]) in pages[q["page"]], q["id"]
        assert flat(q["question"]).rstrip("?") not in pages[q["page"]], q["id"]  # written, not copied
    for q in (q for q in FRESH_ANSWERABLE if q["document"] == document):
        # the evidence points at one page: no other page of the manual holds it
        assert [n for n, text in pages.items() if n != q["page"] and flat(q["evidence"]) in text] == [], q["id"]
        assert longest_shared_run(q["question"], pages[q["page"]]) < 6, q["id"]  # in our own words


async def test_hybrid_retrieval_finds_the_gold_page_of_the_smallest_manual(kb: KnowledgeBase):
    document = SMALLEST_MANUAL
    await kb.ingest_pdf("eval", "bench", document, manual_path(document).read_bytes())
    questions = [q for q in ANSWERABLE if q["document"] == document]
    ranks = []
    for q in questions:
        passages = await kb.retrieve("eval", q["question"], k=5)
        ranks.append(rank_of_gold([(p.document, p.page) for p in passages], q))
    found = sum(rank is not None for rank in ranks)
    assert found / len(questions) >= 0.9, f"recall@5 {found}/{len(questions)}"
