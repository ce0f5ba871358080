"""This chat's state, typed: Chainlit's user session stores untyped values under string keys.

    session.history.append(...)     # instead of cl.user_session.get("history")

Each attribute reads and writes the key of the same name in the current chat's
`cl.user_session`, so Chainlit's own keys ("user", "chat_profile") and ours sit side by side.
"""

from __future__ import annotations

from copy import copy
from typing import Any, Generic, TypeVar

import chainlit as cl

from router import ChatMessage

T = TypeVar("T")


class _Key(Generic[T]):
    """One key of the user session; `default` (a fresh copy when it is a list or dict) when unset."""

    def __init__(self, default: T) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> T:
        value = cl.user_session.get(self.name)
        if value is not None:
            return value
        if isinstance(self.default, (list, dict)):  # a fresh one per chat, kept so that changes to it last
            value = copy(self.default)
            cl.user_session.set(self.name, value)
            return value
        return self.default

    def __set__(self, obj: Any, value: T) -> None:
        cl.user_session.set(self.name, value)


class ChatSession:
    """The current chat's state (see the module docstring)."""

    #: Set by Chainlit at sign-in.
    user: cl.User = _Key(None)
    #: Set by Chainlit: the chat profile's name ("Auto" or a model's label).
    chat_profile: str = _Key("")
    #: The conversation so far, as the models see it (the app's notes left out).
    history: list[ChatMessage] = _Key([])
    #: The project this chat answers from (None: the user's own, chosen at the next use).
    project_id: str | None = _Key(None)
    #: The user switched "Private chat" on: local models only.
    private_chat: bool = _Key(False)
    #: The chat settings' project labels and the project ids they stand for.
    project_labels: dict[str, str] = _Key({})
    #: The database outage this chat was last told about (once per outage, not once per failed save).
    unsaved_outage: int | None = _Key(None)
    #: This chat's recent answers by message id, for "Ask a stronger model" / "Try locally" (chat.comparisons).
    answers: dict[str, Any] = _Key({})


session = ChatSession()
