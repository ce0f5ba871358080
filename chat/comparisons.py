"""Labels from use: the same question answered by the other class of model, and the user's verdict.

Under a local answer the chat offers "Ask a stronger model" (a cloud model answers the same turn
again), under a cloud answer "Try locally"; after the second answer it asks which one was better
(or both fine), says that the choice teaches the router, and stores the verdict for training. A
private conversation is never offered a cloud comparison, and the answering pipeline refuses one
when the button is pressed anyway (`chat.answers.compare`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import chainlit as cl

from answering import Prepared
from chat.services import services
from chat.session import session
from chat.translations import translated
from persistence import Comparison, PersistenceError, Preference, record_comparison
from router import ChatMessage, Kind

log = logging.getLogger("hybrid_chat")
COMPARE_ACTION = "compare_models"
VERDICT_ACTION = "comparison_verdict"
#: How many of a chat's latest answers can still be compared (their questions are kept in memory).
KEPT_ANSWERS = 20
VERDICT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Answered:
    """An answer shown in full: what comparing it needs."""

    prepared: Prepared
    step_id: str
    #: The catalog id of the model that wrote it, and that model's class.
    model_id: str
    route: Kind
    text: str

    @property
    def model_label(self) -> str:
        spec = services().router.catalog.get(self.model_id)
        return spec.label if spec else self.model_id


def keep(answered: Answered) -> None:
    """Remember an answer of this chat so that it can be compared later (the newest few only)."""
    answers = session.answers
    answers[answered.step_id] = answered
    while len(answers) > KEPT_ANSWERS:
        answers.pop(next(iter(answers)))


def kept(step_id: object) -> Answered | None:
    """One of this chat's own answers (a forged id of another chat's finds nothing)."""
    return session.answers.get(step_id) if isinstance(step_id, str) else None


async def comparison_action(prepared: Prepared, step_id: str) -> cl.Action | None:
    """The button under an answer, or None when no comparison may be offered (see `Pipeline.second_opinion_kind`)."""
    kind = await services().pipeline.second_opinion_kind(prepared)
    if kind is None:
        return None
    label = translated("comparison.askStronger" if kind == "cloud" else "comparison.tryLocally")
    return cl.Action(name=COMPARE_ACTION, payload={"step_id": step_id}, label=label, icon="scale")


async def ask_verdict(first: Answered, second: Answered) -> None:
    """Ask which answer was better and store the verdict; no answer in time stores nothing."""
    choices = (("first", "comparison.first"), ("second", "comparison.second"), ("both", "comparison.both"))
    reply = await cl.AskActionMessage(
        content=translated("comparison.question", first=first.model_label, second=second.model_label)
        + "\n\n*" + translated("comparison.note") + "*",
        actions=[cl.Action(name=VERDICT_ACTION, payload={"choice": choice}, label=translated(key))
                 for choice, key in choices],
        timeout=VERDICT_TIMEOUT_S,
    ).send()
    choice = (reply or {}).get("payload", {}).get("choice")
    if choice not in ("first", "second", "both"):
        return
    preference: Preference = "both" if choice == "both" else (first if choice == "first" else second).route
    local, cloud = (first, second) if first.route == "local" else (second, first)
    if choice == "second":
        _continue_from(first, second)
    try:
        await record_comparison(services().engine, Comparison(
            session.user.identifier, first.step_id, second.step_id, first.prepared.question.text, local.model_id,
            cloud.model_id, first.route, preference, thread_id=cl.context.session.thread_id,
            strong_win_rate=first.prepared.decision.strong_win_rate,
        ))
    except PersistenceError as exc:
        log.error("comparison not stored: %s", exc)
        await cl.Message(content="⚠️ Your choice could not be stored: the database is unavailable.").send()
        return
    await cl.Message(content=translated("comparison.thanks")).send()


def _continue_from(first: Answered, second: Answered) -> None:
    """The better answer becomes the conversation's, if nothing was said since the first one."""
    history = session.history
    if history and history[-1] == ChatMessage("assistant", first.text):
        history[-1] = ChatMessage("assistant", second.text)
