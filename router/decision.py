"""What the router is asked (`RouteRequest`) and what it decides (`RouteDecision`)."""

from __future__ import annotations

from dataclasses import dataclass

from router.catalog import ModelSpec
from router.types import ChatMessage

AUTO_PROFILE = "auto"


@dataclass(frozen=True)
class RouteRequest:
    """One message to route, with everything the policy may look at."""

    #: The whole conversation the model will see, the new user message last.
    messages: tuple[ChatMessage, ...]
    #: "auto" (the router decides) or the id of a model the user picked.
    profile: str = AUTO_PROFILE
    #: Retrieved knowledge passages that will be sent with the prompt (scanned for privacy).
    passages: tuple[str, ...] = ()
    #: The user or operator marked this chat (or its project) private.
    private: bool = False


@dataclass(frozen=True)
class RouteDecision:
    """Where a message goes, in order of preference, and why.

    `candidates[0]` answers; the rest are fallbacks the route allows. A private
    decision never lists a cloud model, so no retry or fallback can leak.
    """

    candidates: tuple[ModelSpec, ...]
    private: bool
    reasons: tuple[str, ...]
    strong_win_rate: float | None = None
    privacy_kinds: tuple[str, ...] = ()

    @property
    def model(self) -> ModelSpec | None:
        return self.candidates[0] if self.candidates else None

    def __post_init__(self) -> None:
        if self.private and any(not spec.is_local for spec in self.candidates):
            raise ValueError("a private route may only list local models")
