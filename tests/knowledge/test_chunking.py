"""Structure-aware chunking: sections, list items, sentences and pages; every passage knows its page and section."""

from __future__ import annotations

import pytest

from knowledge._chunking import Chunk, chunk_pages, decode_spans, encode_spans


def numbered_sentences(count: int, words_per_sentence: int = 10, prefix: str = "w") -> str:
    words = [f"{prefix}{i}" for i in range(count * words_per_sentence)]
    return " ".join(word + ("." if (i + 1) % words_per_sentence == 0 else "") for i, word in enumerate(words))


def test_chunks_never_cross_pages_between_sentences_and_keep_page_numbers():
    chunks = chunk_pages([(3, numbered_sentences(40, prefix="a")), (4, "Only one sentence here.")])
    assert {chunk.page for chunk in chunks} == {3, 4}
    assert all(("a" in chunk.text) == (chunk.page == 3) for chunk in chunks)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert chunks[-1].text == "Only one sentence here."
    assert all(not chunk.spans for chunk in chunks)


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


MANUAL_PAGE = """3.2 Pointers
Pointers of kind unique become an option type. A null pointer is None.
Pointers of kind ref are ignored during the mapping.
3.3 Arrays
Arrays of characters with the string attribute become strings.
The length of an array is found as follows:
• By the length_is attribute, if present.
• By the size_is attribute, if present.
Ellipses
The ellipses style plots an ellipse at each data point."""


def test_headings_start_sections_and_every_chunk_knows_its_section():
    chunks = chunk_pages([(9, MANUAL_PAGE)])
    by_section = {chunk.section: chunk.text for chunk in chunks}
    assert list(by_section) == ["3.2 Pointers", "3.3 Arrays", "Ellipses"]
    assert by_section["3.2 Pointers"].startswith("Pointers of kind unique") and "Arrays" not in by_section["3.2 Pointers"]
    assert by_section["Ellipses"] == "The ellipses style plots an ellipse at each data point."
    assert all(chunk.page == 9 for chunk in chunks)
    assert chunks[0].embedded_text == f"3.2 Pointers: {chunks[0].text}"


def test_a_module_s_lower_case_subsection_is_a_heading_and_a_numbered_list_item_is_not():
    page = (
        "8.26 graph\n"
        "This module draws graphs.\n"
        "There are two ways to view the picture:\n"
        "1. Use the native renderer for interactive viewing.\n"
        "2. Generate WebGL output for a browser.\n"
        "Both keep the lighting.\n"
        "8.27 palette\n"
        "Palettes map values to colors."
    )
    chunks = chunk_pages([(103, page)])
    assert list(dict.fromkeys(chunk.section for chunk in chunks)) == ["8.26 graph", "8.27 palette"]
    assert "Generate WebGL output" in chunks[0].text and chunks[-1].text == "Palettes map values to colors."


def test_a_section_title_carries_over_to_the_next_page():
    chunks = chunk_pages([(1, "2.1 Installation\nRun the installer first."), (2, "Then restart the machine.")])
    assert [(chunk.page, chunk.section) for chunk in chunks] == [(1, "2.1 Installation"), (2, "2.1 Installation")]


def test_list_items_stay_whole():
    items = [f"• Item {i} says " + " ".join(f"w{i}x{j}" for j in range(30)) + "." for i in range(6)]
    chunks = chunk_pages([(1, "\n".join(items))], chunk_words=70, overlap_words=10)
    for item in items:
        text = item.removeprefix("• ")
        assert any(text in chunk.text for chunk in chunks), item  # never split across two passages


def test_a_sentence_over_a_page_break_stays_whole_and_cites_the_page_of_the_matching_words():
    pages = [
        (5, "Volcanoes erupt when magma rises. The lava of a shield volcano is runny and it flows"),
        (6, "far across the plain before it cools into black basalt rock. Sourdough needs wild yeast."),
    ]
    chunks = chunk_pages(pages)
    (spanning,) = [chunk for chunk in chunks if chunk.spans]
    assert "it flows far across the plain" in spanning.text
    assert [page for page, _ in spanning.spans] == [5, 6]
    page_six_text = spanning.text[spanning.spans[1][1]:]
    assert page_six_text.startswith("far across the plain")

    def words_of(question: str):
        return lambda part: len(set(question.split()) & set(part.rstrip(".").split()))

    assert spanning.page_for(words_of("What rock does it cools into basalt")) == 6
    assert spanning.page_for(words_of("when magma rises in volcanoes")) == 5
    assert decode_spans(encode_spans(spanning.spans)) == spanning.spans


def test_running_headers_and_footers_are_left_out():
    pages = [(n, f"gnuplot 5.4 {n}\nSentence number {n} is about topic {n}.\n{n}") for n in range(1, 8)]
    chunks = chunk_pages(pages)
    assert [chunk.text for chunk in chunks] == [f"Sentence number {n} is about topic {n}." for n in range(1, 8)]


def test_a_running_header_that_names_a_short_chapter_is_left_out_by_its_page_number():
    # The printed page number runs 5 behind the page's position; each chapter title repeats on 2 pages only.
    chapters = ["Tutorial", "Tutorial", "Drawing commands", "Drawing commands", "Bezier curves", "Bezier curves"]
    topics = ["paths", "pens", "labels", "arrows", "fills", "clips"]
    pages = [(n, f"Chapter {n // 2}: {chapters[n - 10]} {n - 5}\nThis page is about {topics[n - 10]}.")
             for n in range(10, 16)]
    chunks = chunk_pages(pages)
    assert [chunk.text for chunk in chunks] == [f"This page is about {topic}." for topic in topics]
    assert {chunk.section for chunk in chunks} == {""}


def test_ligatures_and_hyphenated_line_breaks_are_normalised():
    (chunk,) = chunk_pages([(1, "The ﬁle holds the conﬁ-\nguration  of\n\tthe   store.")])
    assert chunk.text == "The file holds the configuration of the store."


def test_empty_pages_give_no_chunks():
    assert chunk_pages([(1, "   \n "), (2, "")]) == []


def test_overlap_must_be_smaller_than_chunk():
    with pytest.raises(ValueError):
        chunk_pages([(1, "text")], chunk_words=10, overlap_words=10)


def test_a_one_page_chunk_cites_its_page_whatever_matches():
    assert Chunk(4, 0, "text").page_for(lambda part: 99) == 4
