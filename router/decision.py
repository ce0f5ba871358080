"""What the router is asked (`RouteRequest`) and what it decides (`RouteDecision`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from router.catalog import ModelSpec
from router.privacy import Finding
from router.types import ChatMessage

AUTO_PROFILE = "auto"
#: The user's answer when a cloud profile meets personal data: send it anyway, or answer locally.
PrivacyChoice = Literal["send", "local"]


@dataclass(frozen=True)
class RouteRequest:
    """One message to route, with everything the policy may look at."""

    #: The conversation as the user or API client wrote it (every turn is scanned, a client's system
    #: turns included; the app's own system prompt is not in it), the new message last.
    messages: tuple[ChatMessage, ...]
    #: "auto" (the router decides) or the id of a model the user picked.
    profile: str = AUTO_PROFILE
    #: Retrieved knowledge passages that will be sent with the prompt (scanned for privacy).
    passages: tuple[str, ...] = ()
    #: Why the user wants this conversation kept on this machine, as the route step says it ("this chat
    #: is marked private"); empty: no such wish. Local models only, like personal data.
    private_reason: str = ""
    #: The user's answer to a confirmation (`RouteDecision.needs_confirmation`); None = not asked yet.
    privacy_choice: PrivacyChoice | None = None
    #: Why the user may not use cloud models any more today (e.g. "your daily budget of $1.00 is used
    #: up"); empty: they may. A spent budget keeps messages local, it does not refuse them.
    cloud_budget_spent: str = ""


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
    #: Where the personal data is (masked previews only), for the route step in the chat.
    privacy_findings: tuple[Finding, ...] = ()
    #: The score threshold of this decision (None when complexity did not decide).
    threshold: float | None = None
    #: A cloud profile met personal data: ask send anyway / answer locally / cancel; nothing is sent.
    needs_confirmation: bool = False
    #: The confirmation answer this decision honours, recorded for the audit trail.
    privacy_choice: PrivacyChoice | None = None
    #: The provider whose line was too long, so the message went elsewhere (None: it did not spill).
    spilled_from: str | None = None
    #: Every allowed line is longer than the hard limit: nothing is sent; try again in about this many seconds.
    retry_after_s: float | None = None

    @property
    def model(self) -> ModelSpec | None:
        return self.candidates[0] if self.candidates else None

    @property
    def route(self) -> Literal["local", "cloud", "none"]:
        """Where the answer comes from: the first candidate's kind, or "none" when nothing may answer."""
        return self.candidates[0].kind if self.candidates else "none"

    def __post_init__(self) -> None:
        if self.private and any(not spec.is_local for spec in self.candidates):
            raise ValueError("a private route may only list local models")
        if self.needs_confirmation and self.candidates:
            raise ValueError("a decision waiting for confirmation must not list models")
