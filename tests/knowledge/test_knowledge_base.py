"""The `KnowledgeBase` facade on a real embedded Chroma store with the real embedding model."""

from __future__ import annotations

import asyncio
import threading

import pytest
from chromadb.api.models.Collection import Collection

from knowledge import _ingest
from knowledge import EncryptedPdf, IngestProgress, KnowledgeBase, KnowledgeError, MalformedPdf, StoreLocked
from knowledge._retrieve import retrieve
from knowledge._store import ProjectStore, chunk_id
from tests.support.knowledge_pdfs import SAMPLES, TOPIC_PAGES, encrypt, make_pdf

TOPIC_QUESTIONS = [
    ("Why do some volcanoes erupt explosively?", 1),
    ("How do bees tell each other where the flowers are?", 2),
    ("How often should I feed my sourdough starter?", 3),
    ("When should I replace a worn bicycle chain?", 4),
]


async def test_ingest_reports_progress_and_a_summary(kb: KnowledgeBase):
    events: list[IngestProgress] = []

    async def show(event: IngestProgress) -> None:
        events.append(event)

    summary = await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES + [None]), progress=show)
    assert (summary.document, summary.pages, summary.pages_without_text) == ("topics.pdf", 5, 1)
    assert summary.chunks == 4 and not summary.already_indexed
    assert "Indexed topics.pdf: 5 pages, 1 without text skipped, 4 passages" in summary.describe()
    assert events[-1] == IngestProgress("done", 5, 5, 4, 4)
    assert {event.stage for event in events} <= {"reading", "embedding", "done"}


@pytest.mark.parametrize(("question", "page"), TOPIC_QUESTIONS)
async def test_retrieval_cites_the_page_that_holds_the_answer(kb: KnowledgeBase, question: str, page: int):
    await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    passages = await kb.retrieve("p1", question, k=2)
    assert passages[0].document == "topics.pdf"
    assert passages[0].page == page
    assert passages[0].citation == f"topics.pdf, p. {page}"
    assert passages[0].text in " ".join(TOPIC_PAGES[page - 1].split())


async def test_retrieval_on_a_real_manual_cites_the_right_page(kb: KnowledgeBase):
    await kb.ingest_pdf("p1", "alice", "CAD.pdf", (SAMPLES / "CAD.pdf").read_bytes())
    passages = await kb.retrieve("p1", "How do I initialise the sCAD structure with a line group before drawing?")
    assert (passages[0].document, passages[0].page) == ("CAD.pdf", 2)
    assert "Create" in passages[0].text


async def test_a_question_naming_a_document_is_answered_from_it(kb: KnowledgeBase):
    for name, liquid in [("dishwasher.pdf", "warm water"), ("compressor.pdf", "light machine oil")]:
        await kb.ingest_pdf("p1", "alice", name, make_pdf([f"Before the first start, prime the pump with {liquid}."]))
    for question, document in [("How do I prime the compressor pump?", "compressor.pdf"),
                               ("How do I prime the dishwasher's pump?", "dishwasher.pdf")]:
        assert (await kb.retrieve("p1", question, k=2))[0].document == document, question


async def test_nothing_relevant_gives_no_passages(kb: KnowledgeBase):
    await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    assert await kb.retrieve("p1", "Who won the football world cup in 2014?") == []
    assert await kb.retrieve("p1", "   ") == []
    assert await kb.retrieve("empty-project", "How do bees communicate?") == []


async def test_the_same_file_twice_is_indexed_once(kb: KnowledgeBase):
    data = make_pdf(TOPIC_PAGES)
    first = await kb.ingest_pdf("p1", "alice", "topics.pdf", data)
    again = await kb.ingest_pdf("p1", "bob", "copy-of-topics.pdf", data)
    assert again.already_indexed and again.doc_id == first.doc_id and again.chunks == first.chunks
    assert "already" in again.describe()
    assert [d.document for d in await kb.list_documents("p1")] == ["topics.pdf"]
    assert kb.project("p1").count() == first.chunks


async def test_documents_are_listed_and_removed_with_their_chunks(kb: KnowledgeBase):
    topics = await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    cad = await kb.ingest_pdf("p1", "bob", "CAD.pdf", (SAMPLES / "CAD.pdf").read_bytes())
    listed = {d.document: d for d in await kb.list_documents("p1")}
    assert set(listed) == {"topics.pdf", "CAD.pdf"}
    assert (listed["CAD.pdf"].owner, listed["CAD.pdf"].pages, listed["CAD.pdf"].kind) == ("bob", 7, "pdf")

    assert await kb.remove_document("p1", topics.doc_id)
    assert not await kb.remove_document("p1", topics.doc_id)
    assert [d.doc_id for d in await kb.list_documents("p1")] == [cad.doc_id]
    assert kb.project("p1").count() == cad.chunks
    assert all(p.document == "CAD.pdf" for p in await kb.retrieve("p1", "How do bees communicate?", min_score=-1))


async def test_projects_do_not_see_each_others_knowledge(kb: KnowledgeBase):
    await kb.ingest_pdf("team-a", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    assert await kb.list_documents("team-b") == []
    assert await kb.retrieve("team-b", "How do bees communicate?", min_score=-1) == []


async def test_saved_answer_is_retrieved_like_a_document(kb: KnowledgeBase):
    await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    answer = "Our lab's kiln must cool for at least 14 hours before the door is opened, or the glaze cracks."
    saved = await kb.save_artifact("p1", "bob", "Kiln cooling time", answer)
    assert (saved.kind, saved.chunks, saved.already_indexed) == ("artifact", 1, False)
    assert (await kb.save_artifact("p1", "bob", "Kiln cooling time", answer)).already_indexed

    best = (await kb.retrieve("p1", "How long does the kiln need to cool down?"))[0]
    assert (best.document, best.page, best.kind, best.text) == ("Kiln cooling time", None, "artifact", answer)
    assert best.citation == "Kiln cooling time"
    listed = {d.document: d for d in await kb.list_documents("p1")}
    assert listed["Kiln cooling time"].owner == "bob"
    with pytest.raises(KnowledgeError, match="no text"):
        await kb.save_artifact("p1", "bob", "Empty", "  ")


async def test_encrypted_upload_is_indexed_once_the_password_is_given(kb: KnowledgeBase):
    data = encrypt(make_pdf(TOPIC_PAGES), user_password="s3cret", owner_password="owner")
    with pytest.raises(EncryptedPdf):
        await kb.ingest_pdf("p1", "alice", "locked.pdf", data)
    assert await kb.list_documents("p1") == []
    summary = await kb.ingest_pdf("p1", "alice", "locked.pdf", data, password="s3cret")
    assert summary.pages == 4


async def test_rejected_file_leaves_nothing_behind(kb: KnowledgeBase):
    with pytest.raises(MalformedPdf):
        await kb.ingest_pdf("p1", "alice", "broken.pdf", make_pdf(TOPIC_PAGES)[:-900])
    assert await kb.list_documents("p1") == [] and kb.project("p1").count() == 0


async def test_a_failure_while_storing_removes_the_chunks_already_written(kb: KnowledgeBase, monkeypatch):
    """Fault injection: Chroma fails on the third batch of a document (e.g. disk full, server gone)."""
    monkeypatch.setattr(type(kb._client), "get_max_batch_size", lambda self: 2)
    real_upsert = Collection.upsert
    calls = 0

    def failing_upsert(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="disk full"):
        await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES * 2))
    assert calls == 3  # two batches were written before the failure...
    assert kb.project("p1").count() == 0  # ...and removed again
    assert await kb.list_documents("p1") == []


async def test_a_failure_while_embedding_removes_the_parts_already_stored(kb: KnowledgeBase, monkeypatch):
    """Parts are stored while the next one is embedded: an embedding failure later on must still leave nothing."""
    monkeypatch.setattr(_ingest, "WRITE_CHUNKS", 2)
    stored = threading.Event()
    real_add_chunks, real_embed = ProjectStore.add_chunks, type(kb.embedder).embed
    calls = 0

    def add_chunks(self, *args, **kwargs):
        real_add_chunks(self, *args, **kwargs)
        stored.set()

    def embed(self, texts, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            assert stored.wait(60) and kb.project("p1").count() > 0  # a part is in Chroma already
            raise RuntimeError("out of memory")
        return real_embed(self, texts, **kwargs)

    monkeypatch.setattr(ProjectStore, "add_chunks", add_chunks)
    monkeypatch.setattr(type(kb.embedder), "embed", embed)
    with pytest.raises(RuntimeError, match="out of memory"):
        await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES * 2))
    assert kb.project("p1").count() == 0
    assert await kb.list_documents("p1") == []


def test_embedding_progress_counts_on_across_the_parts(kb: KnowledgeBase, monkeypatch):
    monkeypatch.setattr(_ingest, "WRITE_CHUNKS", 3)
    events: list[IngestProgress] = []
    summary = _ingest.ingest_pdf(kb.project("p1"), kb.embedder, owner="alice", filename="topics.pdf",
                                 data=make_pdf(TOPIC_PAGES * 2), max_mb=50, max_pages=100, progress=events.append)
    assert summary.chunks == 8
    assert [e.chunks_embedded for e in events if e.stage == "embedding"] == [3, 6, 8]
    assert events[-1] == IngestProgress("done", 8, 8, 8, 8)
    assert kb.project("p1").count() == 8


async def test_event_loop_keeps_serving_while_a_file_is_ingested(kb: KnowledgeBase):
    await kb.ingest_pdf("other", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    # Large enough that its embedding takes several seconds even on a quiet machine.
    big = make_pdf([f"Section {i}. " + " ".join(TOPIC_PAGES) for i in range(200)])
    progress: list[IngestProgress] = []
    ingestion = asyncio.create_task(kb.ingest_pdf("p1", "alice", "big.pdf", big, progress=progress.append))
    while not progress and not ingestion.done():  # ingestion has started in its thread
        await asyncio.sleep(0.01)
    passages = await kb.retrieve("other", "How do bees communicate?")
    assert passages and not ingestion.done()
    assert (await ingestion).pages == 200


async def test_delete_project_drops_all_its_knowledge(kb: KnowledgeBase):
    await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    await kb.save_artifact("p1", "alice", "Note", "Remember the volcano field trip.")
    await kb.delete_project("p1")
    assert await kb.list_documents("p1") == [] and kb.project("p1").count() == 0
    await kb.delete_project("never-existed")


def test_one_process_at_a_time_holds_the_embedded_store(make_kb, settings):
    first = make_kb(settings)
    with pytest.raises(StoreLocked, match="CHROMA_HOST"):
        make_kb(settings)
    first.close()
    make_kb(settings)  # free again


async def test_knowledge_survives_reopening_the_store(make_kb, settings):
    kb = make_kb(settings)
    await kb.ingest_pdf("p1", "alice", "topics.pdf", make_pdf(TOPIC_PAGES))
    kb.close()
    reopened = make_kb(settings)
    assert [d.document for d in await reopened.list_documents("p1")] == ["topics.pdf"]
    assert (await reopened.retrieve("p1", "How do bees communicate?"))[0].page == 2
    assert keyword_pages(reopened, "p1", "sourdough starter") == [3]  # the keyword index was stored too


ERROR_CODES = "Boiler error codes. E4711 means the water pressure is too low; top it up to 1.5 bar."


def keyword_pages(kb: KnowledgeBase, project: str, question: str) -> list[int | None]:
    """The pages the keyword (BM25) side alone finds, as this process's index sees the store now."""
    passages = retrieve(kb.project(project), kb.embedder, kb.keywords(project), question, k=5, min_score=-1.0,
                        mode="keyword")
    return [passage.page for passage in passages]


async def test_the_keyword_index_is_written_at_ingestion_and_follows_removal_and_re_ingestion(kb: KnowledgeBase):
    data = make_pdf(TOPIC_PAGES + [ERROR_CODES])
    summary = await kb.ingest_pdf("p1", "alice", "manual.pdf", data)
    stored = kb.project("p1").keyword_entries(summary.doc_id, summary.chunks)
    assert len(stored) == summary.chunks and "e4711" in stored[-1][1]  # stored beside the vectors, in Chroma
    assert stored[-1][2] == 5  # with the page it cites, so one passage per page needs no extra read
    assert keyword_pages(kb, "p1", "What does E4711 mean?") == [5]
    assert (await kb.retrieve("p1", "What does E4711 mean?"))[0].page == 5  # hybrid: the code decides
    code_chunk = stored[-1][0]
    assert kb.keywords("p1").pages([code_chunk]) == {code_chunk: (summary.doc_id, 5)}

    assert await kb.remove_document("p1", summary.doc_id)
    assert keyword_pages(kb, "p1", "What does E4711 mean?") == []
    assert kb.keywords("p1").index.doc_ids == set() and kb.keywords("p1").pages([code_chunk]) == {}
    await kb.ingest_pdf("p1", "alice", "manual.pdf", data)
    assert keyword_pages(kb, "p1", "What does E4711 mean?") == [5]
    assert kb.keywords("p1").pages([code_chunk]) == {code_chunk: (summary.doc_id, 5)}


async def test_a_keyword_hit_gone_from_the_store_is_passed_over(kb: KnowledgeBase):
    """The index chooses pages without reading; a chosen chunk removed behind its back gives way to the next page."""
    summary = await kb.ingest_pdf("p1", "alice", "manual.pdf", make_pdf(TOPIC_PAGES + [ERROR_CODES]))
    assert keyword_pages(kb, "p1", "What does E4711 mean?") == [5]  # the index is loaded
    store = kb.project("p1")
    store._collection(store._chunks_name, create=False).delete(ids=[f"{summary.doc_id}-{summary.chunks - 1}"])
    assert keyword_pages(kb, "p1", "E4711 water") == [3]


OPENING_HOURS = [
    "The city museum opens at nine on weekdays. On Sundays and public holidays the museum opens at noon, "
    "and Sunday guided tours start at two.",
    "The corner bakery sells fresh bread from six in the morning on weekdays. On Sundays it stays closed.",
    "The public library lends books and music. Members may borrow ten items for three weeks.",
    "Every Sunday the Sunday market fills the old square. On Sundays farmers sell cheese, and Sunday "
    "concerts follow at four.",
]


async def test_a_follow_up_is_retrieved_with_the_previous_question(kb: KnowledgeBase):
    await kb.ingest_pdf("p1", "alice", "town.pdf", make_pdf(OPENING_HOURS))
    alone = await kb.retrieve("p1", "And on Sundays?", min_score=-1)
    assert alone[0].page == 4  # on its own, "Sundays" points at the Sunday market
    follow_up = await kb.retrieve("p1", "And on Sundays?", context="When does the bakery open?", min_score=-1)
    assert follow_up[0].page == 2
    new_topic = await kb.retrieve("p1", "How many books may I borrow?", context="When does the bakery open?")
    assert new_topic[0].page == 3  # a new question still finds its own topic


IMAGE_TRANSFORMS = [
    "The reflect transform turns an image over about a line, so that left and right swap as in a looking glass.",
    "Every picture has a size. The picture size is given in centimeters, and a picture may be scaled.",
    "Transforms such as rotations and shifts change an image as a whole.",
    "The crop command cuts an image down to a rectangle.",
    "Colors of pens are given by name or by red, green and blue values.",
]


async def test_a_keyword_hit_on_a_common_word_alone_does_not_outrank_what_the_vectors_find_first(kb: KnowledgeBase):
    # "mirror" and "flip" are in no passage: BM25 ranks page 2 first for "picture" alone, and must not lead.
    await kb.ingest_pdf("p1", "alice", "images.pdf", make_pdf(IMAGE_TRANSFORMS))
    question = "Can I mirror or flip a picture?"
    store, keywords = kb.project("p1"), kb.keywords("p1")
    by_vector = retrieve(store, kb.embedder, keywords, question, k=5, min_score=-1, mode="vector")
    by_keyword = retrieve(store, kb.embedder, keywords, question, k=5, min_score=-1, mode="keyword")
    assert [passage.page for passage in by_keyword] == [2] and by_vector[0].page != 2
    hybrid = await kb.retrieve("p1", question, min_score=-1)
    assert hybrid[0].page == by_vector[0].page
    assert 2 in [passage.page for passage in hybrid]  # the keyword hit still counts, lower


VOLCANO_SENTENCES = [
    "Explosive volcanic eruptions happen when thick magma traps volcanic gas under the volcano.",
    "The trapped gas builds pressure inside the volcano until the magma shatters into ash.",
    "Volcanoes with sticky, silica-rich magma erupt explosively more often than volcanoes with runny magma.",
    "Explosive eruptions of a volcano throw ash columns many kilometres high.",
]


async def test_the_passages_of_an_answer_cite_distinct_pages(kb: KnowledgeBase):
    long_page = " ".join(VOLCANO_SENTENCES * 6)  # several passages, all about explosive volcanoes
    short_page = "Visitors may watch a quiet volcano from the rim; explosive eruptions close the path."
    summary = await kb.ingest_pdf("p1", "alice", "volcanoes.pdf", make_pdf([long_page, short_page, TOPIC_PAGES[1]]))
    assert summary.chunks >= 3
    for mode in ("hybrid", "vector", "keyword"):
        passages = retrieve(kb.project("p1"), kb.embedder, kb.keywords("p1"),
                            "Why do volcanoes erupt explosively?", k=2, min_score=-1.0, mode=mode)
        assert [passage.page for passage in passages] == [1, 2], mode  # page 1's second passage adds nothing new


async def test_a_passage_is_indexed_by_its_section_title_twice(kb: KnowledgeBase):
    summary = await kb.ingest_pdf("p1", "alice", "manual.pdf", make_pdf(
        ["3.2 Pointers\nA null value maps to None in Caml, and any other value to Some of the value it points at."]))
    stored, _ = kb.project("p1").chunks([chunk_id(summary.doc_id, 0)])[chunk_id(summary.doc_id, 0)]
    assert stored.metadata["section"] == "3.2 Pointers"
    assert stored.metadata["terms"].split().count("pointer") == 2  # the title twice; the text never says it
