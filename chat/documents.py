"""Documents in the chat: PDF uploads into the project's knowledge (with progress and password
prompts), the PDFs kept for citations, citation elements and "Save to knowledge"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import chainlit as cl

from chat.services import services
from chat.session import session
from knowledge import EncryptedPdf, IngestProgress, KnowledgeError, Passage
from operations import count_ingestion
from persistence import Project

_PDF = "application/pdf"


async def ingest_files(project: Project, files: list) -> None:
    """Index uploaded PDFs into `project`, with progress, one summary line per file."""
    user = session.user
    for file in files:
        if (file.mime or "") != _PDF and not file.name.lower().endswith(".pdf"):
            await cl.Message(content=f"⚠️ {file.name} is not a PDF; only PDFs can be added to knowledge.").send()
            continue
        data = await asyncio.to_thread(Path(file.path).read_bytes)
        await _ingest_one(project, user, file.name, data)


async def _ingest_one(project: Project, user: cl.User, name: str, data: bytes, password: str | None = None) -> None:
    status = cl.Message(content=f"Reading **{name}**...")
    await status.send()

    async def progress(event: IngestProgress) -> None:
        status.content = (f"**{name}**: {event.pages_read}/{event.pages_total} pages read, "
                          f"{event.chunks_embedded}/{event.chunks_total} passages embedded")
        await status.update()

    try:
        summary = await services().knowledge.ingest_pdf(project.id, user.identifier, name, data, password=password,
                                             progress=progress)
    except EncryptedPdf as exc:
        count_ingestion(outcome="encrypted")
        status.content = f"🔒 {exc}"
        await status.update()
        if password := await _ask_pdf_password(name):
            await _ingest_one(project, user, name, data, password=password)
        return
    except KnowledgeError as exc:
        count_ingestion(outcome=type(exc).__name__)
        status.content = f"⚠️ {name}: {exc}"
        await status.update()
        return
    count_ingestion(chunks=0 if summary.already_indexed else summary.chunks,
                    outcome="duplicate" if summary.already_indexed else "ok")
    await asyncio.to_thread(keep_pdf, project.id, summary.doc_id, data)
    status.content = f"✅ {summary.describe()} (project **{project.name}**)"
    await status.update()


async def _ask_pdf_password(name: str) -> str | None:
    """The password typed into a password field (public/elements/PasswordPrompt.jsx), or None.

    Not an AskUserMessage: its answer is a chat message, shown, saved with the thread and, after
    a resume, sent to models with the rest of the history.
    """
    answer = await cl.AskElementMessage(
        content=f"Type the password of **{name}** (or wait to skip).",
        element=cl.CustomElement(name="PasswordPrompt", props={"file": name}, display="inline"),
        timeout=180,
    ).send()
    password = (answer or {}).get("password") if (answer or {}).get("submitted") else None
    return password if isinstance(password, str) and password else None


def pdf_path(project_id: str, doc_id: str) -> Path:
    return services().settings.data_dir / "knowledge-files" / project_id / f"{doc_id}.pdf"


def keep_pdf(project_id: str, doc_id: str, data: bytes) -> None:
    """Citations open the PDF at its page, so the uploaded file is kept beside the index."""
    path = pdf_path(project_id, doc_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)


async def ask_for_pdfs(project: Project) -> None:
    """The explicit "add to knowledge" flow: a file picker that takes PDFs only."""
    files = await cl.AskFileMessage(
        content="Drop PDFs to add to this project's knowledge.", accept=[_PDF],
        max_size_mb=services().settings.max_upload_mb, max_files=10, timeout=600,
    ).send()
    await ingest_files(project, files or [])


def citation_elements(passages: list[Passage], project: Project) -> list[cl.Element]:
    """Per cited passage: the PDF opened at its page and the passage's text, both in the side view
    (saved answers: the text only), so a reader checks the claim against its source."""
    elements: list[cl.Element] = []
    for number, passage in enumerate(passages, 1):
        path = pdf_path(project.id, passage.doc_id)
        if passage.page and path.exists():
            elements.append(cl.Pdf(name=f"[{number}] {passage.citation}", path=str(path), page=passage.page,
                                   display="side"))
            elements.append(cl.Text(name=_excerpt_name(number), content=_excerpt(passage), display="side"))
        else:
            elements.append(cl.Text(name=f"[{number}] {passage.citation}", content=_excerpt(passage), display="side"))
    return elements


async def show_sources(passages: list[Passage] | None) -> None:
    """Under the answer, a collapsed "Sources" step with the text of every cited passage."""
    if passages:
        async with cl.Step(name="Sources", type="retrieval", show_input=False) as step:
            step.output = "\n\n".join(f"**[{n}] {p.citation}**\n\n{_excerpt(p)}" for n, p in enumerate(passages, 1))


def sources_footer(passages: list[Passage] | None) -> str:
    if passages is None:
        return ""
    if not passages:
        return "\n\n*No passage of this project's documents matched the question; this answer does not use them.*"
    return "\n\n**Sources:** " + ", ".join(
        f"[{n}] {p.citation}" + (f" ({_excerpt_name(n)})" if p.page else "") for n, p in enumerate(passages, 1))


def _excerpt_name(number: int) -> str:
    return f"[{number}] passage"


def _excerpt(passage: Passage) -> str:
    """The passage as a quote, under its section title."""
    section = f"*{passage.section}*\n\n" if passage.section else ""
    return section + "> " + passage.text
