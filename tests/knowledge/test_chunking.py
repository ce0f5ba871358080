"""Page-aware chunking: passages stay within a page, keep their page number, overlap and lose nothing."""

from __future__ import annotations

import pytest

from knowledge._chunking import chunk_pages, normalise


def numbered_sentences(count: int, words_per_sentence: int = 10, prefix: str = "w") -> str:
    words = [f"{prefix}{i}" for i in range(count * words_per_sentence)]
    return " ".join(word + ("." if (i + 1) % words_per_sentence == 0 else "") for i, word in enumerate(words))


def test_chunks_never_cross_pages_and_keep_page_numbers():
    chunks = chunk_pages([(3, numbered_sentences(40, prefix="a")), (4, "Only one sentence here.")])
    assert {chunk.page for chunk in chunks} == {3, 4}
    assert all(("a" in chunk.text) == (chunk.page == 3) for chunk in chunks)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert chunks[-1].text == "Only one sentence here."


def test_chunks_are_bounded_overlap_and_cover_every_word():
    text = numbered_sentences(60)
    chunks = chunk_pages([(1, text)], chunk_words=100, overlap_words=20)
    assert len(chunks) > 5
    assert all(len(chunk.text.split()) <= 100 for chunk in chunks)
    for previous, following in zip(chunks, chunks[1:]):
        shared = set(previous.text.split()) & set(following.text.split())
        assert 0 < len(shared) <= 20
    covered = {word for chunk in chunks for word in chunk.text.split()}
    assert covered == set(text.split())


def test_chunks_end_at_sentence_boundaries():
    chunks = chunk_pages([(1, numbered_sentences(50))], chunk_words=100, overlap_words=20)
    assert all(chunk.text.endswith(".") for chunk in chunks)


def test_a_sentence_longer_than_a_chunk_is_cut_and_still_overlaps():
    words = [f"x{i}" for i in range(500)]  # code or a table: no sentence end at all
    chunks = chunk_pages([(1, " ".join(words))], chunk_words=100, overlap_words=20)
    assert all(len(chunk.text.split()) <= 100 for chunk in chunks)
    assert {word for chunk in chunks for word in chunk.text.split()} == set(words)
    assert chunks[1].text.split()[0] in chunks[0].text.split()


def test_normalise_joins_hyphenated_line_breaks_and_whitespace():
    assert normalise("confi-\nguration  of\n\tthe   store") == "configuration of the store"


def test_empty_pages_give_no_chunks():
    assert chunk_pages([(1, "   \n "), (2, "")]) == []


def test_overlap_must_be_smaller_than_chunk():
    with pytest.raises(ValueError):
        chunk_pages([(1, "text")], chunk_words=10, overlap_words=10)
