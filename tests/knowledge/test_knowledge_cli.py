"""`python -m knowledge` as a user runs it: real subprocesses, real files, embedded store and server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from knowledge import KnowledgeBase
from settings import PROJECT_ROOT, Settings
from tests.support.knowledge_pdfs import SAMPLES, TOPIC_PAGES, make_pdf


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CHROMA_HOST": "", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_then_query_many_questions_as_json_lines(tmp_path: Path, cli_settings: Settings):
    env = {"DATA_DIR": str(cli_settings.data_dir)}
    topics = tmp_path / "topics.pdf"
    topics.write_bytes(make_pdf(TOPIC_PAGES))
    not_a_pdf = tmp_path / "notes.pdf"
    not_a_pdf.write_text("just some notes")

    ingest = run_cli("ingest", "--project", "demo", "--owner", "alice", str(topics), str(SAMPLES / "CAD.pdf"),
                     str(not_a_pdf), env=env)
    assert ingest.returncode == 1  # one of the three files was rejected...
    assert "Indexed topics.pdf: 4 pages, 4 passages" in ingest.stdout
    assert "Indexed CAD.pdf: 7 pages" in ingest.stdout
    assert "notes.pdf: This file is not a PDF" in ingest.stderr  # ...with a clear message
    assert "Traceback" not in ingest.stderr

    questions = "How do bees tell each other where flowers are?\nWho won the 2014 football world cup?\n" \
                "How do I initialise the sCAD structure before drawing?\n"
    query = run_cli("query", "--project", "demo", "--owner", "alice", "-k", "2", "--stdin", env=env, stdin=questions)
    assert query.returncode == 0, query.stderr
    records = [json.loads(line) for line in query.stdout.splitlines()]
    by_question: dict[str, list[dict]] = {}
    for record in records:
        assert {"question", "document", "page", "score", "text"} <= record.keys()
        by_question.setdefault(record["question"], []).append(record)
    bees = by_question["How do bees tell each other where flowers are?"]
    assert (bees[0]["document"], bees[0]["page"]) == ("topics.pdf", 2) and len(bees) <= 2
    cad = by_question["How do I initialise the sCAD structure before drawing?"]
    assert (cad[0]["document"], cad[0]["page"]) == ("CAD.pdf", 2)
    assert "Who won the 2014 football world cup?" not in by_question
    assert "no relevant passage for: Who won the 2014 football world cup?" in query.stderr

    listing = run_cli("list", "--project", "demo", env=env)
    documents = [json.loads(line) for line in listing.stdout.splitlines()]
    assert sorted(d["document"] for d in documents) == ["CAD.pdf", "topics.pdf"]
    topics_id = next(d["doc_id"] for d in documents if d["document"] == "topics.pdf")
    removed = run_cli("remove", "--project", "demo", topics_id, env=env)
    assert removed.returncode == 0 and f"removed {topics_id}" in removed.stdout


def test_refuses_while_another_process_holds_the_embedded_store(cli_settings: Settings, embedder):
    app = KnowledgeBase(cli_settings, embedder=embedder)  # stands for the running app
    try:
        result = run_cli("query", "--project", "demo", "anything", env={"DATA_DIR": str(cli_settings.data_dir)})
    finally:
        app.close()
    assert result.returncode == 2
    assert "The app is running and holds the knowledge store" in result.stderr
    assert "CHROMA_HOST" in result.stderr and "Traceback" not in result.stderr


async def test_with_a_chroma_server_the_app_and_the_cli_share_the_knowledge(
    tmp_path: Path, cli_settings: Settings, chroma_server, embedder
):
    host, port = chroma_server
    app = KnowledgeBase(cli_settings.model_copy(update={"chroma_host": host, "chroma_port": port}), embedder=embedder)
    try:
        topics = tmp_path / "topics.pdf"
        topics.write_bytes(make_pdf(TOPIC_PAGES))
        env = {"DATA_DIR": str(cli_settings.data_dir), "CHROMA_HOST": host, "CHROMA_PORT": str(port)}
        result = run_cli("ingest", "--project", "cli-shared", "--owner", "carol", str(topics), env=env)
        assert result.returncode == 0, result.stderr
        assert [d.owner for d in await app.list_documents("cli-shared")] == ["carol"]
        assert (await app.retrieve("cli-shared", "How often should I feed my sourdough starter?"))[0].page == 3
    finally:
        await app.delete_project("cli-shared")
        app.close()
