"""A chat's lifetime: starting, resuming a saved chat, and telling the user when it cannot be saved."""

from __future__ import annotations

import logging

import chainlit as cl
from chainlit.context import ChainlitContextException

from chat.projects import show_settings
from chat.services import services
from chat.session import session
from chat.welcome import send_commands
from persistence import PersistenceError, conversation_turns
from router import ChatMessage

log = logging.getLogger("hybrid_chat")


async def start() -> None:
    session.history = []
    await send_commands()
    await show_settings()


async def resume(thread: dict) -> None:
    """A reopened chat continues multi-turn: its saved messages become the router's history."""
    session.history = [ChatMessage(turn.role, turn.content) for turn in conversation_turns(thread.get("steps") or [])]
    await send_commands()
    await show_settings()


async def not_saved(error: PersistenceError) -> None:
    """Tell the user, once per outage: Chainlit saves each step in a background task of its own,
    so one message fails several times. The answer itself is not lost."""
    log.error("not saved: %s", error)
    try:
        told = session.unsaved_outage
    except ChainlitContextException:
        return  # an HTTP request, not a chat: it answers 503
    outage = services().data_layer.outage
    if told == outage:
        return
    session.unsaved_outage = outage
    await cl.context.emitter.send_toast(
        "Your chat could not be saved: the database is unavailable. Keep this page open and try again later.",
        "error",
    )
