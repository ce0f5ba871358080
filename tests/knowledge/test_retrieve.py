"""Fusion of the vector and keyword rankings (the rest of retrieval is tested through KnowledgeBase)."""

from __future__ import annotations

from knowledge._retrieve import KEYWORD_WEIGHT, VECTOR_WEIGHT, _fuse


def test_the_first_passage_of_either_ranking_beats_one_both_rankings_put_third():
    first, middle = "first", "both-third"
    for ranking_with_first_on_top in ("vector", "keyword"):
        on_top = [first, "a", middle, "b", "c", "d"]
        sixth = ["a", "b", middle, "c", "d", first]
        vector, keyword = (on_top, sixth) if ranking_with_first_on_top == "vector" else (sixth, on_top)
        fused = _fuse([(VECTOR_WEIGHT, vector), (KEYWORD_WEIGHT, keyword)])
        assert fused.index(first) < fused.index(middle), ranking_with_first_on_top


def test_passages_of_documents_the_question_does_not_name_count_less():
    rankings = [(VECTOR_WEIGHT, ["other-0", "named-0"]), (KEYWORD_WEIGHT, ["other-0", "named-0"])]
    assert _fuse(rankings) == ["other-0", "named-0"]
    assert _fuse(rankings, {"named"}) == ["named-0", "other-0"]
