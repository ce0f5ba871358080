"""Hybrid Chat: the Chainlit app that composes the router, the knowledge base and persistence.

It translates Chainlit events (sign-in, chat profiles, starters, messages, stop,
uploads, actions, settings) into calls on the packages, and their results into
messages, steps and elements; the logic itself lives in the packages. Sections:
sign-in, chat history, start-up, the welcome screen, a message, projects and their
knowledge. Run it with `make run` (see the README).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import chainlit as cl
from chainlit.context import ChainlitContextException
from chainlit.input_widget import Select, Switch
from chainlit.oauth_providers import get_configured_oauth_providers
from chainlit.server import app as http_app

from chainlit_routes import install_route_fixes
from gateway import mount_gateway
from knowledge import EncryptedPdf, IngestProgress, KnowledgeBase, KnowledgeError, Passage, StoreLocked
from operations import (
    LimitExceeded, bind_request_id, configure_logging, count_error, count_ingestion, observe_answer, observe_route,
)
from persistence import (
    HybridDataLayer, PersistenceError, Project, UsageRecord, add_member, conversation_turns, create_project,
    database_url, delete_project, get_project, install_feedback_guard, install_file_route, is_member, list_members,
    list_projects, record_usage, remove_member, rename_project, upgrade_database,
)
from router import (
    AUTO_PROFILE, ENGLISH_PRACTICE_MODE, GENERAL_MODE, BackendError, ChatMessage, Completed, Notice, RouteDecision,
    RouteRequest, Router, TextDelta, build_messages, describe_findings, describe_route,
)
from settings import get_settings
from signin import (
    AccessPolicy, LoginLimiter, SignIn, install_sign_in_guard, is_admin, load_accounts, require_auth_secret,
)
from webgpu_demo_server import mount_webgpu_demo

log = logging.getLogger("hybrid_chat")
settings = get_settings()
configure_logging(settings)  # request ids on every line, personal data and secrets masked
logging.getLogger("router").setLevel(settings.log_level.upper())
log.setLevel(settings.log_level.upper())

router = Router.from_settings(settings)


def _use_private_upload_folder() -> None:
    """Give this process its own folder for uploads in progress.

    Chainlit keeps them in `<app folder>/.files` and deletes that whole folder when a process
    stops, so a second process started from the same folder (another instance, a test server)
    would lose its users' uploads. A fresh folder under DATA_DIR is this process's alone.
    """
    import chainlit.config
    import chainlit.server

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="uploads-", dir=settings.data_dir))
    chainlit.config.FILES_DIRECTORY = chainlit.server.FILES_DIRECTORY = folder


_use_private_upload_folder()
mount_webgpu_demo(http_app, settings)  # the in-browser models page at /webgpu

AUTO_PROFILE_NAME = "Auto"
ENGLISH_COMMAND = "English practice"
PROJECTS_COMMAND = "Projects"
ADD_PDFS_COMMAND = "Add PDFs"
_PROFILE_IDS = {AUTO_PROFILE_NAME: AUTO_PROFILE} | {spec.label: spec.id for spec in router.catalog}


# --- sign-in ---------------------------------------------------------------------------

require_auth_secret(settings.chainlit_auth_secret.get_secret_value())
accounts, new_admin_password = load_accounts(settings.local_credentials(), settings.data_dir / "accounts.json")
if new_admin_password:
    print(
        "\n" + "=" * 72 + "\n"
        f"  First start: created the account 'admin' with the password  {new_admin_password}\n"
        "  It is shown only this once; only a salted hash is stored.\n"
        + "=" * 72 + "\n",
        flush=True,
    )


sign_in = SignIn(
    accounts,
    AccessPolicy.from_settings(settings),
    LoginLimiter(settings.max_failed_logins, settings.login_lockout_s),
    allow_linking=settings.allow_account_linking,
)
install_sign_in_guard(http_app, sign_in.still_allowed)  # re-checks every session token; /access-denied


@cl.password_auth_callback
async def password_sign_in(username: str, password: str) -> cl.User | None:
    return await sign_in.with_password(username, password)


if get_configured_oauth_providers():  # chainlit refuses an OAuth callback without a configured provider

    @cl.oauth_callback
    async def oauth_sign_in(
        provider_id: str, token: str, raw_user_data: dict[str, str], default_user: cl.User
    ) -> cl.User | None:
        return sign_in.with_oauth(provider_id, raw_user_data, default_user)


# --- chat history -----------------------------------------------------------------------------


async def _not_saved(error: PersistenceError) -> None:
    """Tell the user, once per outage: Chainlit saves each step in a background task of its own,
    so one message fails several times. The answer itself is not lost."""
    log.error("not saved: %s", error)
    try:
        told = cl.user_session.get("unsaved_outage")
    except ChainlitContextException:
        return  # an HTTP request, not a chat: it answers 503
    if told == data_layer.outage:
        return
    cl.user_session.set("unsaved_outage", data_layer.outage)
    await cl.context.emitter.send_toast(
        "Your chat could not be saved: the database is unavailable. Keep this page open and try again later.",
        "error",
    )


data_layer = HybridDataLayer.from_settings(settings)
data_layer.on_error = _not_saved
install_file_route(http_app, data_layer)  # element files only for users who may see the thread
install_feedback_guard(http_app, data_layer)  # feedback only on one's own threads
install_route_fixes(http_app, max_upload_mb=settings.max_upload_mb)  # upload limit, 400s for bad input, 503s


@cl.data_layer
def chat_history() -> HybridDataLayer:
    return data_layer


# /v1 (OpenAI-compatible), /gateway/keys, /healthz, /readyz, /metrics; limits shared with the chat
api_gateway = mount_gateway(http_app, router, settings, accounts=accounts, engine=data_layer.engine)


# --- start-up and shutdown -------------------------------------------------------------------


@cl.on_app_startup
async def start_backends() -> None:
    try:
        await upgrade_database(database_url(settings))
    except Exception as exc:  # the app stays up: chats work, saving reports each failure
        log.error("database upgrade failed, chats will not be saved until it is reachable: %s", exc)
    # Loading a model can take a while (a catalog download, even); the UI reports it meanwhile.
    asyncio.create_task(router.start())
    asyncio.create_task(knowledge.warm_up())


@cl.on_app_shutdown
async def stop_backends() -> None:
    await router.aclose()
    knowledge.close()


# --- what the welcome screen offers -----------------------------------------------------------


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None) -> list[cl.ChatProfile]:
    """"Auto" plus one profile per model; unavailable models stay listed with the reason."""
    health = await router.health()
    profiles = [
        cl.ChatProfile(
            name=AUTO_PROFILE_NAME,
            markdown_description="The router picks a model for each message: private or simple questions "
            "stay on this machine, complex ones may go to a cloud model. Each answer says why.",
            default=True,
        )
    ]
    for spec in router.catalog:
        state = health[spec.provider]  # the router answers for every provider its catalog names
        where = "runs on this machine" if spec.is_local else "cloud model: your messages leave this machine"
        if state.available:
            profiles.append(cl.ChatProfile(name=spec.label, markdown_description=f"{spec.label}, {where}."))
        else:
            profiles.append(
                cl.ChatProfile(
                    name=spec.label,
                    display_name=f"{spec.label} (unavailable)",
                    markdown_description=f"**Unavailable:** {state.reason}. See the README to enable it.",
                )
            )
    return profiles


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [
        cl.Starter(
            label="Practise my English",
            message="Yesterday I go to the market and buyed three apple. Is my sentence correct?",
            command=ENGLISH_COMMAND,
        ),
        cl.Starter(label="Explain a concept", message="Explain what a hash map is, with a short example."),
        cl.Starter(label="Draft an e-mail", message="Write a short, polite e-mail asking to move a meeting to Friday."),
        cl.Starter(label="Brainstorm", message="Give me five names for a small neighbourhood bakery."),
    ]


@cl.on_chat_start
async def start_chat() -> None:
    cl.user_session.set("history", [])
    await start_commands()
    await show_settings()


async def start_commands() -> None:
    await cl.context.emitter.set_commands(
        [
            {
                "id": ENGLISH_COMMAND,
                "description": "Correct my English, suggest better words and give usage tips",
                "icon": "languages",
                "button": True,
                "persistent": True,
            },
            {"id": PROJECTS_COMMAND, "description": "This project's documents and members; new, rename, "
             "invite, delete", "icon": "folder", "button": False, "persistent": False},
            {"id": ADD_PDFS_COMMAND, "description": "Add PDFs to this project's knowledge", "icon": "file-plus",
             "button": False, "persistent": False},
        ]
    )


# --- a message ------------------------------------------------------------------------------------


@cl.on_chat_resume
async def resume_chat(thread: dict) -> None:
    """A reopened chat continues multi-turn: its saved messages become the router's history."""
    turns = conversation_turns(thread.get("steps") or [])
    cl.user_session.set("history", [ChatMessage(turn.role, turn.content) for turn in turns])
    await start_commands()
    await show_settings()


@cl.on_message
async def answer(message: cl.Message) -> None:
    bind_request_id(message.id)  # every log line of this message carries its id
    if message.command == PROJECTS_COMMAND:
        await projects_panel()
        return
    uploads = [element for element in message.elements or [] if getattr(element, "path", None)]
    if uploads:
        await ingest_files(uploads)
    if message.command == ADD_PDFS_COMMAND:
        await ask_for_pdfs()
        return
    if not message.content.strip():
        return
    user = cl.user_session.get("user")
    try:
        await api_gateway.limits.admit(data_layer.engine, user.identifier, [message.content], admin=is_admin(user))
    except LimitExceeded as exc:
        await cl.Message(content=f"⏳ {exc.message}").send()
        return

    history: list[ChatMessage] = cl.user_session.get("history") or []
    profile = _PROFILE_IDS.get(cl.user_session.get("chat_profile") or AUTO_PROFILE_NAME, AUTO_PROFILE)
    mode = ENGLISH_PRACTICE_MODE if message.command == ENGLISH_COMMAND else GENERAL_MODE
    project = await _readable_project()
    passages = await retrieve_sources(project, message.content) if project else None
    messages = build_messages(
        history, message.content, mode=mode, context_length=_context_length(profile),
        max_output_tokens=router.max_tokens, sources=[(p.citation, p.text) for p in passages or []],
    )
    request = RouteRequest(
        own_system_prompt=True,  # messages[0] is build_messages' system prompt: not the user's data
        messages=messages, profile=profile, passages=tuple(p.text for p in passages or []),
        # A project that cannot be read may be a private one: stay on this machine meanwhile.
        private=bool(cl.user_session.get("private_chat")) or project is None or project.private,
    )
    decision = await router.route(request)
    if decision.needs_confirmation:
        decision = await _confirm_privacy(request, decision)
        if decision is None:
            return
    observe_route(decision, profile)
    if decision.model is None:
        count_error("chat", "no_backend")
        await cl.Message(
            content="No model can answer right now: " + "; ".join(decision.reasons)
            + ". Pick **Auto** or another profile, or see the README to enable a provider.",
        ).send()
        return

    def remember(answer_text: str) -> None:
        """Keep the turn (even a stopped, partial one) so the next message sees it."""
        history.extend([ChatMessage("user", message.content), ChatMessage("assistant", answer_text)])
        cl.user_session.set("history", history)

    await _stream_answer(decision, messages, remember, _Sources(project, message.content, passages))


async def _confirm_privacy(request: RouteRequest, decision: RouteDecision) -> RouteDecision | None:
    """A cloud model was chosen but the message holds personal data: ask before anything is sent."""
    found = describe_findings(decision.privacy_findings) or ", ".join(decision.privacy_kinds)
    choice = await cl.AskActionMessage(
        content=f"This message contains personal data ({found}). The model you chose runs in the cloud. "
        "Send it anyway, answer with a local model, or cancel?",
        actions=[
            cl.Action(name="privacy", payload={"choice": "send"}, label="Send anyway"),
            cl.Action(name="privacy", payload={"choice": "local"}, label="Answer locally"),
            cl.Action(name="privacy", payload={"choice": "cancel"}, label="Cancel"),
        ],
        timeout=300,
    ).send()
    picked = (choice or {}).get("payload", {}).get("choice", "cancel")
    if picked == "cancel":
        await cl.Message(content="Cancelled: nothing was sent.").send()
        return None
    return await router.route(replace(request, privacy_choice=picked))


def _context_length(profile: str) -> int:
    """The smallest context among the models this profile may use, so any fallback fits too."""
    specs = [router.catalog.get(profile)] if profile != AUTO_PROFILE else list(router.catalog)
    return min(spec.context_length for spec in specs if spec is not None)


class _Sources(NamedTuple):
    """What an answer was grounded on: the project (None: unreadable), the question and the passages
    (None: no documents)."""

    project: Project | None
    question: str
    passages: list[Passage] | None


async def _stream_answer(
    decision: RouteDecision, messages: tuple[ChatMessage, ...], remember: Callable[[str], None], sources: _Sources
) -> None:
    """Stream the decision's answer into a new message and `remember` whatever the user saw of it."""
    async with cl.Step(name="Route", type="tool", show_input=False) as route:
        route.output = _route_summary(decision)
    reply = cl.Message(content="", author=decision.model.label)
    said: list[str] = []  # the models' text: notes are ours, not the conversation's (nor its privacy scan's)
    failure: BackendError | None = None
    try:
        async for event in router.stream(decision, messages):
            if isinstance(event, TextDelta):
                said.append(event.text)
                await reply.stream_token(event.text)
            elif isinstance(event, Notice):
                await reply.stream_token(f"\n\n> {event.text}\n\n")
            elif isinstance(event, Completed):
                route.output = _route_summary(decision, event)
                observe_answer(event.record, "chat")
                await _record_usage(reply, event)
                if event.record.error:
                    # Every allowed model failed after the request went out: say so under what was shown.
                    failure = BackendError(event.record.error)
    except asyncio.CancelledError:
        # The user pressed stop: keep what they already saw, in the chat and in the history.
        if said:
            remember("".join(said))
        await _finish(reply, route, suffix="\n\n*(stopped)*")
        raise
    except BackendError as exc:
        log.warning("answer failed: %s", exc)
        failure = exc
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        count_error("chat", "unexpected")
        log.exception("unexpected error while answering (error id %s)", error_id)
        await _finish(reply, route, suffix=f"\n\n⚠️ Something went wrong on our side (error id {error_id}). Please try again.")
        return
    if failure is not None:
        # Keep what was already shown, and say below it what went wrong and what to do.
        if said:
            remember("".join(said))
        suffix = "\n\n" if reply.content else ""
        await _finish(reply, route, suffix=f"{suffix}⚠️ {_friendly(failure)}")
        return
    remember("".join(said))
    reply.elements = citation_elements(sources.passages or [], sources.project)
    reply.actions = [cl.Action(
        name="save_to_knowledge", label="Save to knowledge", icon="bookmark-plus",
        payload={"title": sources.question[:80], "text": f"Question: {sources.question}\n\nAnswer: {reply.content}"},
    )]
    await _finish(reply, route, suffix=sources_footer(sources.passages))


async def _record_usage(reply: cl.Message, completed: Completed) -> None:
    """One usage row per answer (budgets and admin reports read them); a database outage is only logged."""
    record = completed.record
    user = cl.user_session.get("user")
    try:
        await record_usage(
            data_layer.engine,
            UsageRecord(
                step_id=reply.id, thread_id=cl.context.session.thread_id,
                user_identifier=user.identifier if user else "", backend=record.backend, model=record.model,
                prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens,
                cost_usd=record.cost_usd, ttft_ms=None if record.ttft_s is None else record.ttft_s * 1000,
                latency_ms=record.total_s * 1000,
            ),
        )
    except PersistenceError as exc:
        log.error("usage not recorded: %s", exc)


async def _finish(reply: cl.Message, route: cl.Step, *, suffix: str = "") -> None:
    if suffix:
        reply.content += suffix
    await asyncio.shield(asyncio.gather(reply.send(), route.update()))


def _friendly(exc: BackendError) -> str:
    return f"The model could not answer ({exc}). Try again, or pick another model in the profile menu."


def _route_summary(decision: RouteDecision, completed: Completed | None = None) -> str:
    """The route step's text: where the message went, why (personal data masked), and what it cost."""
    text = describe_route(decision, completed.record if completed else None)
    if completed:
        text += f"\nContext: {completed.record.message_count} messages sent to the model"
        if completed.record.error:
            text += f"\nError: {completed.record.error}"
    return text


# --- projects and their knowledge -------------------------------------------------------------

try:
    knowledge = KnowledgeBase(settings)
except StoreLocked as exc:  # only one process may write the embedded store
    raise SystemExit(f"error: {exc}") from None

DEFAULT_PROJECT_NAME = "My project"
_PDF = "application/pdf"


def _identities(user: cl.User) -> list[str]:
    """The names a project may know this user by: the account, and a verified e-mail (invitations)."""
    email = (user.metadata or {}).get("email")
    return [user.identifier] + ([email] if email and email != user.identifier else [])


async def _projects_of(user: cl.User) -> list[Project]:
    seen: dict[str, Project] = {}
    for identity in _identities(user):
        for project in await list_projects(data_layer.engine, identity):
            seen.setdefault(project.id, project)
    return list(seen.values())


async def _may_use(user: cl.User, project_id: str) -> bool:
    for identity in _identities(user):
        if await is_member(data_layer.engine, project_id, identity):
            return True
    return False


async def _readable_project() -> Project | None:
    """The session's project, or None (said in the chat) while the database cannot be read:
    the message is still answered, without the project's documents."""
    try:
        return await current_project()
    except PersistenceError as exc:
        log.error("project not read: %s", exc)
        await cl.Message(content="⚠️ This chat's project and its documents cannot be read right now (the "
                         "database is unavailable), so this answer does not use them and stays on this "
                         "machine.").send()
        return None


async def current_project() -> Project:
    """The session's project, re-checked on every use: a removed member loses access at once."""
    user = cl.user_session.get("user")
    project_id = cl.user_session.get("project_id")
    if project_id and await _may_use(user, project_id):
        project = await get_project(data_layer.engine, project_id)
        if project is not None:
            return project
    # Start in one's own project (created on first use), never silently in someone else's.
    projects = await _projects_of(user)
    project = next((p for p in projects if p.owner == user.identifier), None)
    if project is None:
        project = await create_project(data_layer.engine, user.identifier, DEFAULT_PROJECT_NAME)
    cl.user_session.set("project_id", project.id)
    return project


async def show_settings() -> None:
    """Chat settings: which project this chat uses, and whether it is private."""
    project = await current_project()
    projects = await _projects_of(cl.user_session.get("user"))
    labels = {_project_label(p): p.id for p in projects}
    cl.user_session.set("project_labels", labels)
    await cl.ChatSettings([
        Select(id="project", label="Project", values=list(labels), initial_value=_project_label(project),
               description="Chats in a project answer from its documents."),
        Switch(id="private_chat", label="Private chat (local models only)",
               initial=bool(cl.user_session.get("private_chat"))),
    ]).send()


def _project_label(project: Project) -> str:
    user = cl.user_session.get("user")
    return project.name if project.owner == user.identifier else f"{project.name} (shared by {project.owner})"


@cl.on_settings_update
async def settings_changed(values: dict) -> None:
    cl.user_session.set("private_chat", bool(values.get("private_chat")))
    project_id = (cl.user_session.get("project_labels") or {}).get(values.get("project"))
    if project_id and project_id != cl.user_session.get("project_id"):
        if await _may_use(cl.user_session.get("user"), project_id):
            cl.user_session.set("project_id", project_id)
            project = await current_project()
            # A toast: a message would stay hidden behind the welcome screen of a new chat.
            await cl.context.emitter.send_toast(f"Switched to the project {project.name}.", "success")


async def ingest_files(files: list) -> None:
    """Index uploaded PDFs into the current project, with progress, one summary line per file."""
    project = await current_project()
    user = cl.user_session.get("user")
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
        summary = await knowledge.ingest_pdf(project.id, user.identifier, name, data, password=password,
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
    await asyncio.to_thread(_keep_pdf, project.id, summary.doc_id, data)
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


def _pdf_path(project_id: str, doc_id: str) -> Path:
    return settings.data_dir / "knowledge-files" / project_id / f"{doc_id}.pdf"


def _keep_pdf(project_id: str, doc_id: str, data: bytes) -> None:
    """Citations open the PDF at its page, so the uploaded file is kept beside the index."""
    path = _pdf_path(project_id, doc_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)


async def retrieve_sources(project: Project, question: str) -> list[Passage] | None:
    """Relevant passages of the project's documents; None when the project has no documents."""
    if not await knowledge.list_documents(project.id):
        return None
    return await knowledge.retrieve(project.id, question)


def citation_elements(passages: list[Passage], project: Project) -> list[cl.Element]:
    """One element per cited page: the PDF opened at that page (saved answers as text)."""
    elements: list[cl.Element] = []
    for number, passage in enumerate(passages, 1):
        name = f"[{number}] {passage.citation}"
        path = _pdf_path(project.id, passage.doc_id)
        if passage.page and path.exists():
            elements.append(cl.Pdf(name=name, path=str(path), page=passage.page, display="side"))
        else:
            elements.append(cl.Text(name=name, content=passage.text, display="side"))
    return elements


def sources_footer(passages: list[Passage] | None) -> str:
    if passages is None:
        return ""
    if not passages:
        return "\n\n*No passage of this project's documents matched the question; this answer does not use them.*"
    return "\n\n**Sources:** " + ", ".join(f"[{n}] {p.citation}" for n, p in enumerate(passages, 1))


def action_callback(name: str):
    """`cl.action_callback` that leaves the UI idle when it returns.

    Chainlit 2.12 runs action callbacks without a task, but an Ask* inside one restarts the
    "running" indicator after the answer and never ends it, which keeps every button disabled.
    """

    def register(func):
        @functools.wraps(func)
        async def run(action: cl.Action):
            try:
                return await func(action)
            finally:
                await cl.context.emitter.task_end()

        return cl.action_callback(name)(run)

    return register


@action_callback("save_to_knowledge")
async def save_to_knowledge(action: cl.Action) -> None:
    project = await current_project()
    user = cl.user_session.get("user")
    summary = await knowledge.save_artifact(project.id, user.identifier, action.payload["title"],
                                            action.payload["text"])
    await action.remove()
    await cl.Message(content=f"Saved to the knowledge of **{project.name}**: {summary.document}.").send()


async def projects_panel() -> None:
    """The current project: its documents and members, with what the user may do."""
    project = await current_project()
    user = cl.user_session.get("user")
    owner = project.owner == user.identifier
    documents = await knowledge.list_documents(project.id)
    members = await list_members(data_layer.engine, project.id)
    lines = [f"**Project: {project.name}**" + ("" if owner else f" (shared by {project.owner})"), ""]
    lines += [f"- {d.document} ({d.pages} pages, {d.chunks} passages)" if d.kind == "pdf"
              else f"- saved answer: {d.document}" for d in documents] or ["- no documents yet"]
    lines += ["", "**Members:** " + (", ".join(m.member for m in members) or "only you")]
    actions = [cl.Action(name="add_pdfs", payload={}, label="Add PDFs"),
               cl.Action(name="new_project", payload={}, label="New project")]
    if owner:
        actions += [cl.Action(name="remove_document", payload={"doc_id": d.doc_id, "name": d.document},
                              label=f"Remove {d.document}") for d in documents]
        actions += [cl.Action(name="rename_project", payload={}, label="Rename"),
                    cl.Action(name="invite_member", payload={}, label="Invite by e-mail")]
        actions += [cl.Action(name="remove_member", payload={"member": m.member}, label=f"Remove {m.member}")
                    for m in members]
        actions.append(cl.Action(name="delete_project", payload={}, label="Delete project"))
    await cl.Message(content="\n".join(lines), actions=actions).send()


async def _ask(question: str) -> str | None:
    answer = await cl.AskUserMessage(content=question, timeout=300).send()
    return (answer or {}).get("output", "").strip() or None


@action_callback("add_pdfs")
async def add_pdfs(action: cl.Action) -> None:
    await ask_for_pdfs()


async def ask_for_pdfs() -> None:
    """The explicit "add to knowledge" flow: a file picker that takes PDFs only."""
    files = await cl.AskFileMessage(
        content="Drop PDFs to add to this project's knowledge.", accept=[_PDF],
        max_size_mb=settings.max_upload_mb, max_files=10, timeout=600,
    ).send()
    await ingest_files(files or [])


@action_callback("new_project")
async def new_project(action: cl.Action) -> None:
    if name := await _ask("Name of the new project?"):
        project = await create_project(data_layer.engine, cl.user_session.get("user").identifier, name)
        cl.user_session.set("project_id", project.id)
        await show_settings()
        await cl.Message(content=f"Created and switched to **{project.name}**.").send()


@action_callback("rename_project")
async def rename(action: cl.Action) -> None:
    project = await _owned_project()
    if project and (name := await _ask(f"New name for **{project.name}**?")):
        await rename_project(data_layer.engine, project.id, name)
        await show_settings()
        await cl.Message(content=f"Renamed to **{name}**.").send()


@action_callback("invite_member")
async def invite(action: cl.Action) -> None:
    project = await _owned_project()
    email = project and await _ask(f"E-mail address to invite to **{project.name}**?")
    if not email:
        return
    if "@" not in email:
        await cl.Message(content=f"⚠️ {email} is not an e-mail address.").send()
        return
    await add_member(data_layer.engine, project.id, email)
    await cl.Message(
        content=f"{email} can now use **{project.name}** and its documents.",
        actions=[cl.Action(name="remove_member", payload={"member": email}, label=f"Remove {email}")],
    ).send()


@action_callback("remove_member")
async def uninvite(action: cl.Action) -> None:
    project = await _owned_project()
    if project and await remove_member(data_layer.engine, project.id, action.payload["member"]):
        await cl.Message(content=f"{action.payload['member']} no longer has access to **{project.name}**.").send()


@action_callback("remove_document")
async def remove_document(action: cl.Action) -> None:
    project = await _owned_project()
    if project and await knowledge.remove_document(project.id, action.payload["doc_id"]):
        await asyncio.to_thread(_pdf_path(project.id, action.payload["doc_id"]).unlink, missing_ok=True)
        await cl.Message(content=f"Removed {action.payload['name']} and its passages.").send()


@action_callback("delete_project")
async def delete(action: cl.Action) -> None:
    project = await _owned_project()
    if project is None:
        return
    confirm = await cl.AskActionMessage(
        content=f"Delete **{project.name}**, its documents and its members' access?",
        actions=[cl.Action(name="yes", payload={"ok": True}, label="Delete"),
                 cl.Action(name="no", payload={"ok": False}, label="Keep")], timeout=120,
    ).send()
    if confirm and confirm.get("payload", {}).get("ok"):
        await knowledge.delete_project(project.id)
        await delete_project(data_layer.engine, project.id)
        await asyncio.to_thread(shutil.rmtree, _pdf_path(project.id, "x").parent, ignore_errors=True)
        cl.user_session.set("project_id", None)
        await show_settings()
        await cl.Message(content=f"Deleted **{project.name}**.").send()


async def _owned_project() -> Project | None:
    project = await current_project()
    if project.owner != cl.user_session.get("user").identifier:
        await cl.Message(content=f"Only the owner ({project.owner}) can change **{project.name}**.").send()
        return None
    return project
