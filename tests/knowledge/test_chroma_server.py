"""The same knowledge operations against a real Chroma server (`chroma run`), as in a scaled-out setup."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from settings import Settings
from tests.knowledge.test_knowledge_base import ERROR_CODES, keyword_pages
from tests.support.knowledge_pdfs import SAMPLES, TOPIC_PAGES, make_pdf


@pytest.fixture
def server_kb(chroma_server, embedder, tmp_path):
    host, port = chroma_server
    kb = KnowledgeBase(Settings(DATA_DIR=tmp_path / "data", CHROMA_HOST=host, CHROMA_PORT=port), embedder=embedder)
    yield kb
    kb.close()


async def test_ingest_retrieve_remove_on_a_server(server_kb: KnowledgeBase, tmp_path):
    project = "server-project"
    data = make_pdf(TOPIC_PAGES)
    topics = await server_kb.ingest_pdf(project, "alice", "topics.pdf", data)
    await server_kb.ingest_pdf(project, "bob", "CAD.pdf", (SAMPLES / "CAD.pdf").read_bytes())
    assert (await server_kb.ingest_pdf(project, "alice", "topics.pdf", data)).already_indexed
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded when a server is configured

    best = (await server_kb.retrieve(project, "How do bees tell each other where the flowers are?"))[0]
    assert (best.document, best.page) == ("topics.pdf", 2)
    assert await server_kb.remove_document(project, topics.doc_id)
    assert [d.document for d in await server_kb.list_documents(project)] == ["CAD.pdf"]
    await server_kb.delete_project(project)
    assert await server_kb.list_documents(project) == []


def test_several_clients_may_use_one_server(chroma_server, embedder, tmp_path):
    host, port = chroma_server
    settings = Settings(DATA_DIR=tmp_path / "data", CHROMA_HOST=host, CHROMA_PORT=port)
    first, second = KnowledgeBase(settings, embedder=embedder), KnowledgeBase(settings, embedder=embedder)
    first.close()
    second.close()


async def test_instances_sharing_a_server_share_the_keyword_index(chroma_server, embedder, tmp_path):
    """Two app instances: what one ingests or removes, the other's keyword search follows at its next question."""
    host, port = chroma_server
    first, second = (KnowledgeBase(Settings(DATA_DIR=tmp_path / name, CHROMA_HOST=host, CHROMA_PORT=port),
                                   embedder=embedder) for name in ("one", "two"))
    try:
        project, question = "shared-project", "What does E4711 mean?"
        assert keyword_pages(second, project, question) == []  # the second instance's index is now loaded (empty)
        data = make_pdf(TOPIC_PAGES + [ERROR_CODES])
        summary = await first.ingest_pdf(project, "alice", "manual.pdf", data)
        assert keyword_pages(second, project, question) == [5]
        code_chunk = f"{summary.doc_id}-{summary.chunks - 1}"
        assert second.keywords(project).pages([code_chunk]) == {code_chunk: (summary.doc_id, 5)}  # read from the server
        assert await first.remove_document(project, summary.doc_id)
        assert keyword_pages(second, project, question) == []
        await second.ingest_pdf(project, "bob", "manual.pdf", data)
        assert keyword_pages(first, project, question) == [5]
        await first.delete_project(project)
    finally:
        first.close()
        second.close()
