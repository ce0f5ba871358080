"""Turn a stored thread back into the conversation the router continues from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple

_ROLES: dict[str, Literal["user", "assistant"]] = {"user_message": "user", "assistant_message": "assistant"}


class Turn(NamedTuple):
    role: Literal["user", "assistant"]
    content: str


def conversation_turns(steps: Iterable[Mapping[str, Any]]) -> list[Turn]:
    """User and assistant messages in the order they were created; tool/route steps are left out.

    Pass `thread["steps"]` from `get_thread` (or chainlit's `on_chat_resume` argument).
    Empty messages (an answer that failed before its first token) are skipped.
    """
    ordered = sorted(
        (step for step in steps if step.get("type") in _ROLES),
        key=lambda step: (step.get("createdAt") or "", step.get("start") or ""),
    )
    return [Turn(_ROLES[step["type"]], step["output"]) for step in ordered if (step.get("output") or "").strip()]
