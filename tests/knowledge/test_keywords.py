"""The keyword side: terms, BM25 over documents added and removed whole, and syncing with the store's listing."""

from __future__ import annotations

from knowledge._keywords import KeywordIndex, ProjectKeywords, indexed_terms, terms


def test_terms_are_stemmed_lower_case_and_skip_function_words():
    assert terms("How do I configure the Configurations of Running servers?") == ["configur", "configur", "run", "server"]
    assert terms("size_is(len) and -keep-labels") == ["size", "len", "keep", "label"]


def index_of(**documents: list[str]) -> KeywordIndex:
    index = KeywordIndex()
    for doc_id, texts in documents.items():
        index.add(doc_id, [(f"{doc_id}-{i}", terms(text), i + 1) for i, text in enumerate(texts)])
    return index


def test_bm25_ranks_rare_words_and_repeated_words_higher():
    index = index_of(
        manual=["The plot command draws a plot.", "The palette maps gray values to colors.", "Plot plot plot styles."],
        notes=["A palette of cubehelix colours spirals around the colour wheel."],
    )
    hits = index.search(dict.fromkeys(terms("cubehelix palette"), 1.0), k=5)
    assert [chunk for chunk, _ in hits] == ["notes-0", "manual-1"]
    assert hits[0][1] > hits[1][1] > 0
    assert [chunk for chunk, _ in index.search({"plot": 1.0}, k=1)] == ["manual-2"]
    assert index.search({"absent": 1.0}, k=5) == []


def test_a_passage_titled_with_the_question_s_word_outranks_one_that_mentions_it_in_passing():
    index = KeywordIndex()
    index.add("manual", [
        ("manual-0", indexed_terms("Palette", "It maps gray values onto colors for surfaces."), 1),
        ("manual-1", indexed_terms("Surfaces", "A mesh is drawn; a palette may color it."), 2),
    ])
    hits = index.search(dict.fromkeys(terms("palette"), 1.0), k=2)
    assert [chunk for chunk, _ in hits] == ["manual-0", "manual-1"]
    assert hits[0][1] > hits[1][1]


def test_a_longer_passage_that_uses_the_word_twice_outranks_a_short_one_that_uses_it_once():
    # Passages are cut to a bounded size, so length says little about verbosity: normalisation is mild.
    index = index_of(manual=[
        "The palette.",
        "A palette maps each gray value of a surface onto a color; set it before the splot command draws the palette.",
        "Unrelated words about axes and tics.",
    ])
    assert [chunk for chunk, _ in index.search({"palett": 1.0}, k=2)] == ["manual-1", "manual-0"]


def test_a_removed_document_leaves_no_trace_and_a_re_added_one_scores_as_before():
    index = index_of(manual=["gamma correction of the palette"], notes=["palette notes", "more notes"])
    before = index.search({"palett": 1.0}, k=5)
    index.remove("notes")
    assert [chunk for chunk, _ in index.search({"palett": 1.0}, k=5)] == ["manual-0"]
    assert index.search({"note": 1.0}, k=5) == []
    index.add("notes", [("notes-0", terms("palette notes"), 1), ("notes-1", terms("more notes"), 2)])
    assert index.search({"palett": 1.0}, k=5) == before
    index.add("notes", [("notes-0", terms("other words"), 1)])  # the same id again replaces the document
    assert [chunk for chunk, _ in index.search({"palett": 1.0}, k=5)] == ["manual-0"]


def test_the_index_knows_each_one_page_chunks_page_through_removal_and_re_adding():
    index = KeywordIndex()
    index.add("manual", [("manual-0", terms("intro"), 1), ("manual-1", terms("over a page break"), None)])
    index.add("note", [("note-0", terms("a saved answer"), 0)])
    assert index.page("manual-0") == ("manual", 1) and index.page("note-0") == ("note", 0)
    assert index.page("manual-1") is None  # spans pages: the question's words choose
    index.remove("manual")
    assert index.page("manual-0") is None and index.page("note-0") == ("note", 0)
    index.add("manual", [("manual-0", terms("intro"), 3)])
    assert index.page("manual-0") == ("manual", 3)


def test_the_share_of_a_question_a_chunk_holds_weighs_rare_words_most():
    index = index_of(manual=["the picture size", "picture colors", "picture layers", "reflect a picture in a mirror"])
    question = dict.fromkeys(terms("mirror picture"), 1.0)
    common_only, both = index.matched_share(question, "manual-0"), index.matched_share(question, "manual-3")
    assert both == 1.0 and 0 < common_only < 0.5  # "mirror" is rarer than "picture": it weighs more
    missing = index.matched_share(dict.fromkeys(terms("flip picture"), 1.0), "manual-0")
    assert 0 < missing < common_only  # a word no chunk holds weighs most of all
    assert index.matched_share(question, "unknown-0") == 0.0
    index.remove("manual")
    assert index.matched_share(question, "manual-3") == 0.0


def test_query_term_weights_count():
    index = index_of(doc=["sunday opening hours", "monday opening hours"])
    hits = index.search({"sunday": 1.0, "monday": 0.5}, k=2)
    assert [chunk for chunk, _ in hits] == ["doc-0", "doc-1"]


def test_sync_loads_each_document_once_and_drops_unlisted_ones():
    loads: list[str] = []

    def load(doc_id: str, chunks: int) -> list[tuple[str, list[str], int | None]]:
        loads.append(doc_id)
        return [(f"{doc_id}-{i}", terms(f"{doc_id} passage number {i}"), i + 1) for i in range(chunks)]

    keywords = ProjectKeywords()
    keywords.sync({"alpha": 2, "beta": 1}, load)
    keywords.sync({"alpha": 2, "beta": 1}, load)  # nothing changed: nothing reloaded (never rebuilt per query)
    assert sorted(loads) == ["alpha", "beta"]
    assert {chunk for chunk, _ in keywords.search({"beta": 1.0}, k=5)} == {"beta-0"}
    assert keywords.pages(["alpha-1", "beta-0", "gamma-0"]) == {"alpha-1": ("alpha", 2), "beta-0": ("beta", 1)}

    keywords.sync({"alpha": 2}, load)  # beta was removed (by this or another instance)
    assert keywords.search({"beta": 1.0}, k=5) == [] and keywords.pages(["beta-0"]) == {}
    keywords.sync({"alpha": 2, "gamma": 1}, load)
    assert loads[-1] == "gamma" and len(loads) == 3
