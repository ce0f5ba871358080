"""A chat message answered: the answering pipeline's steps and events rendered as Chainlit messages.

The pipeline (`answering`) decides and accounts; this module only asks what the chat must ask
(the privacy confirmation) and shows: the route step, the streamed answer with its notes, the
sources with their citations, "(stopped)" and friendly failures; and, for a comparison
(`chat.comparisons`), the same question answered again by the other class of model.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import partial

import chainlit as cl
from chainlit.utils import utc_now

from answering import Asker, Prepared, Question
from chat import comparisons
from chat.comparisons import COMPARE_ACTION, Answered
from chat.documents import ask_for_pdfs, citation_elements, ingest_files, show_sources, sources_footer
from chat.live_text import LiveText
from chat.projects import current_project, projects_panel, readable_project
from chat.retraining import RETRAIN_COMMAND, retrain
from chat.services import services
from chat.session import session
from chat.translations import translated
from chat.welcome import ADD_PDFS_COMMAND, ENGLISH_COMMAND, PROJECTS_COMMAND, profile_id
from chat.workarounds import action_callback
from operations import LimitExceeded, bind_request_id, count_error
from persistence import Project
from router import (
    ENGLISH_PRACTICE_MODE, GENERAL_MODE, BackendError, CallRecord, ChatMessage, Completed, Notice, Queued,
    RouteDecision, TextDelta, describe_busy, describe_findings, describe_route,
)
from signin import is_admin

log = logging.getLogger("hybrid_chat")


async def on_message(message: cl.Message) -> None:
    """Commands and uploads first; then the message's answer."""
    bind_request_id(message.id)  # every log line of this message carries its id
    if message.command == PROJECTS_COMMAND:
        await projects_panel()
        return
    if message.command == RETRAIN_COMMAND:
        await retrain()
        return
    uploads = [element for element in message.elements or [] if getattr(element, "path", None)]
    if uploads:
        await ingest_files(await current_project(), uploads)
    if message.command == ADD_PDFS_COMMAND:
        await ask_for_pdfs(await current_project())
        return
    if message.content.strip():
        await answer(message.content, english_practice=message.command == ENGLISH_COMMAND)


async def answer(text: str, *, english_practice: bool = False) -> None:
    """Prepare the question with the pipeline, ask about personal data if needed, then stream the answer."""
    project = await readable_project()
    question = Question(
        (*session.history, ChatMessage("user", text)),
        profile=profile_id(session.chat_profile),
        mode=ENGLISH_PRACTICE_MODE if english_practice else GENERAL_MODE,
        project_id=project.id if project else None,
        private_reason=_private_reason(project),
    )
    user = session.user
    try:
        prepared = await services().pipeline.prepare(Asker(user.identifier, is_admin(user)), question)
    except LimitExceeded as exc:
        await cl.Message(content=f"⏳ {exc.message}").send()
        return
    for note in prepared.notes:
        await cl.Message(content=f"⚠️ {note}").send()
    if prepared.decision.needs_confirmation:
        prepared = await _confirm_privacy(prepared)
        if prepared is None:
            return
    if prepared.decision.retry_after_s is not None:  # every line it may use is too long: say when to come back
        await cl.Message(content=f"⏳ {describe_busy(prepared.decision)}").send()
        return
    if prepared.decision.model is None:
        await cl.Message(
            content="No model can answer right now: " + "; ".join(prepared.decision.reasons)
            + ". Pick **Auto** or another profile, or see the README to enable a provider.",
        ).send()
        return
    await _stream_answer(prepared, project)


def _private_reason(project: Project | None) -> str:
    """Why this chat must stay on this machine, in the route step's words; empty: it need not.

    The project is re-read for every message, so an owner's switch holds at their members' next message.
    """
    if session.private_chat:
        return "this chat is marked private"
    if project is None:  # one that cannot be read may be a private one: stay on this machine meanwhile
        return "this chat's project cannot be read"
    return "this project is marked private" if project.private else ""


async def _confirm_privacy(prepared: Prepared) -> Prepared | None:
    """A cloud model was chosen but the message holds personal data: ask before anything is sent."""
    decision = prepared.decision
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
    return await services().pipeline.reroute(prepared, picked)


@action_callback(COMPARE_ACTION)
async def compare(action: cl.Action) -> None:
    """Answer one of this chat's answers again with the other class of model, then ask which was better.

    The other class is the server's to work out, and the pipeline routes afresh: a private conversation
    (now or when it was asked) gets no cloud model, even when this action is forged.
    """
    first = comparisons.kept(action.payload.get("step_id"))
    if first is None:
        await cl.Message(content=translated("comparison.gone")).send()
        return
    project = await readable_project()
    try:
        again = await services().pipeline.second_opinion(
            first.prepared, "cloud" if first.route == "local" else "local", private_reason=_private_reason(project))
    except LimitExceeded as exc:
        await cl.Message(content=f"⏳ {exc.message}").send()
        return
    if again.decision.model is None:
        await cl.Message(content="No second answer: " + "; ".join(again.decision.reasons[1:]) + ".").send()
        return
    await action.remove()
    second = await _stream_answer(again, project, comparable=False)
    if second is not None:
        await comparisons.ask_verdict(first, second)


async def _stream_answer(prepared: Prepared, project: Project | None, *, comparable: bool = True) -> Answered | None:
    """Stream the answer into a new message; keep in the history whatever the user saw of it.

    Returns the answer when it was complete (None: stopped or failed). A `comparable` one in the
    history gets the comparison button when one may be offered; a second opinion is shown beside
    the answer it is compared with and stays out of the history (the verdict may put it there).
    """
    decision = prepared.decision
    # Shown once, finished, then updated with the answer's figures at the end (`_finish`), which stores it:
    # one write per answer, after the first token, instead of one before it too (its place in the chat
    # is its creation time either way). A step used as `async with` is saved and sent twice before the first token.
    route = cl.Step(name="Route", type="tool", show_input=False)
    route.start = route.end = utc_now()
    route.output = route_summary(decision)
    # Shown in a task of its own while the request goes out (the model's prefill hides it); the reply waits for it.
    route_shown = asyncio.ensure_future(cl.context.emitter.send_step(route.to_dict()))
    reply = cl.Message(content="", author=decision.model.label)
    said: list[str] = []  # the models' text: notes are ours, not the conversation's (nor its privacy scan's)
    failure: BackendError | None = None
    record: CallRecord | None = None
    in_line = False  # the reply shows its place in line, which the first token replaces

    async def below_route(text: str, is_sequence: bool = False) -> None:
        await route_shown
        await reply.stream_token(text, is_sequence=is_sequence)

    live = LiveText(below_route)  # a socket message per few tokens, not per token
    finish = partial(_finish, reply, route, route_shown)
    try:
        answer = services().pipeline.answer(prepared, step_id=reply.id, thread_id=cl.context.session.thread_id)
        async with answer:  # records usage however the answer ends (a stopped one too)
            async for event in answer:
                if isinstance(event, Queued):
                    await live.flush()
                    if not reply.content:  # a fallback's line after text was shown: the text stays
                        await live.replace(waiting_line(event))
                        reply.content, in_line = "", True  # shown, but not part of the answer
                elif isinstance(event, (TextDelta, Notice)):
                    text = event.text if isinstance(event, TextDelta) else f"\n\n> {event.text}\n\n"
                    if isinstance(event, TextDelta):
                        said.append(text)
                    await (live.replace(text) if in_line else live.write(text))
                    in_line = False
                elif isinstance(event, Completed):
                    record = event.record
                    route.output = route_summary(decision, event.record)
                    if event.record.error:
                        # Every allowed model failed after the request went out: say so under what was shown.
                        failure = BackendError(event.record.error)
        await live.flush()
    except asyncio.CancelledError:
        # The user pressed stop: keep what they already saw, in the chat and in the history.
        if comparable:
            _remember(prepared, said)
        await asyncio.shield(live.flush())
        await finish(suffix="\n\n*(stopped)*")
        raise
    except BackendError as exc:
        log.warning("answer failed: %s", exc)
        await live.flush()
        failure = exc
    except Exception:
        await live.flush()
        error_id = uuid.uuid4().hex[:8]
        count_error("chat", "unexpected")
        log.exception("unexpected error while answering (error id %s)", error_id)
        await finish(suffix=f"\n\n⚠️ Something went wrong on our side (error id {error_id}). "
                      "Please try again.")
        return None
    if comparable:
        _remember(prepared, said)
    if failure is not None:
        # Keep what was already shown, and say below it what went wrong and what to do.
        suffix = "\n\n" if reply.content else ""
        await finish(suffix=f"{suffix}⚠️ {_friendly(failure)}")
        return None
    question = prepared.question.text
    if project is not None:
        reply.elements = citation_elements(prepared.passages or [], project)
    reply.actions = [cl.Action(
        name="save_to_knowledge", label="Save to knowledge", icon="bookmark-plus",
        payload={"title": question[:80], "text": f"Question: {question}\n\nAnswer: {reply.content}"},
    )]
    answered = _answered(prepared, reply.id, record, said)
    if comparable and answered is not None:
        comparisons.keep(answered)
        if action := await comparisons.comparison_action(prepared, reply.id):
            reply.actions.append(action)
    await finish(suffix=sources_footer(prepared.passages))
    await show_sources(prepared.passages)
    return answered


def _answered(prepared: Prepared, step_id: str, record: CallRecord | None, said: list[str]) -> Answered | None:
    """The answer as a comparison needs it; None when no single known model wrote all of it."""
    spec = services().router.catalog.get(record.model_id) if record is not None else None
    if spec is None or len(record.models) > 1:
        return None
    return Answered(prepared, step_id, spec.id, spec.kind, "".join(said))


def _remember(prepared: Prepared, said: list[str]) -> None:
    """Keep the turn (even a stopped or partial one) so the next message sees it; nothing said, nothing kept."""
    if said:
        session.history.extend([ChatMessage("user", prepared.question.text), ChatMessage("assistant", "".join(said))])


async def _finish(reply: cl.Message, route: cl.Step, route_shown: asyncio.Future, *, suffix: str = "") -> None:
    """Send the finished reply and store both it and the route step (updated: the route is shown by then)."""
    if suffix:
        reply.content += suffix

    async def send() -> None:
        await route_shown
        await asyncio.gather(reply.send(), route.update())

    await asyncio.shield(send())


def waiting_line(queued: Queued) -> str:
    """The reply while the message waits: "⏳ 3rd in line for SmolLM2, about 12 s" (stop leaves the line)."""
    place = queued.place
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    estimate = f", about {max(1, round(queued.estimate_s))} s" if queued.estimate_s is not None else ""
    return f"⏳ {place}{suffix} in line for {queued.model}{estimate}"


def _friendly(exc: BackendError) -> str:
    return f"The model could not answer ({exc}). Try again, or pick another model in the profile menu."


def route_summary(decision: RouteDecision, record: CallRecord | None = None) -> str:
    """The route step's Markdown: one fact per line, as a list (Markdown would run plain lines together)."""
    text = describe_route(decision, record)
    if record is not None and record.error:
        text += f"\nError: {record.error}"
    return "\n".join(f"- {line}" for line in text.splitlines())
