"""Per-user limits: messages per minute, a daily token and cost budget, message size.

Each refusal is a `LimitExceeded` carrying the sentence to show the user (the chat shows
`exc.message`; the gateway sends it in an OpenAI-format error with `exc.status`). A spent
daily budget is no refusal: `budget_spent` tells the routing policy, which answers locally.
Administrators are exempt from the rate limit and the budgets, not from the size limit.
(The upload size is the knowledge base's limit: `MAX_UPLOAD_MB`, checked where files are read.)
The rate limit is counted in the database (`persistence.SharedState`) and the budgets are read
from recorded usage, so both hold across instances and restarts. A user's minute starts at their
first message: at most `rate_per_minute` messages until it ends, then a new minute starts.
When the database cannot be reached, messages are let through (the chat keeps answering during
an outage, as it does for everything else) and the log says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncEngine

from operations.metrics import count_limit_refusal
from persistence import PersistenceError, SharedState, usage_summary
from settings import Settings

WINDOW_S = 60.0
log = logging.getLogger("hybrid_chat.operations")


class LimitExceeded(Exception):
    """A limit refused the request; `message` is written for the user."""

    def __init__(self, limit: str, message: str, *, status: int = 429, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass
class Limits:
    """The configured limits; the rate counters live in `shared` (the database all instances use)."""

    shared: SharedState
    rate_per_minute: int = 30
    daily_tokens: int = 0
    daily_cost_usd: float = 0.0
    max_message_chars: int = 20_000
    #: Wall-clock seconds: instances compare their times through the database.
    clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(cls, settings: Settings, shared: SharedState) -> Limits:
        return cls(
            shared, rate_per_minute=settings.rate_limit_per_minute, daily_tokens=settings.daily_token_budget,
            daily_cost_usd=settings.daily_cost_budget_usd, max_message_chars=settings.max_message_chars,
        )

    def check_message(self, text: str) -> None:
        if len(text) > self.max_message_chars:
            raise LimitExceeded(
                "message_size",
                f"Your message is too long ({len(text):,} characters; the limit is {self.max_message_chars:,}). "
                "Shorten it, or upload long texts as a document.",
                status=413,
            )

    async def take_rate(self, user: str, *, admin: bool = False) -> None:
        """Count one message for `user`, or refuse it when they sent `rate_per_minute` in their current minute."""
        if admin or self.rate_per_minute <= 0:
            return
        now = self.clock()
        try:
            window = await self.shared.take(user, window_s=WINDOW_S, now=now)
        except PersistenceError as exc:
            log.warning("rate limit not checked, message let through: %s", exc)
            return
        if window.count > self.rate_per_minute:
            wait = max(1.0, window.ends_at - now)
            raise LimitExceeded(
                "rate",
                f"You are sending messages too fast (limit: {self.rate_per_minute} a minute). "
                f"Please wait {wait:.0f} seconds and try again.",
                retry_after_s=wait,
            )

    async def budget_spent(self, engine: AsyncEngine, user: str, *, cloud_backends: Collection[str],
                           admin: bool = False) -> str:
        """Why `user` may not use cloud models any more today, or "" while their daily budget lasts.

        Only what `cloud_backends` answered counts: the budget rations the cloud, so a day of local
        answers does not use it up. A spent budget does not refuse a message: the routing policy
        answers it locally.
        """
        if admin or (self.daily_tokens <= 0 and self.daily_cost_usd <= 0):
            return ""
        midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = [row for row in await usage_summary(engine, user, since=midnight) if row.backend in cloud_backends]
        tokens = sum(r.prompt_tokens + r.completion_tokens for r in rows)
        cost = sum(r.cost_usd for r in rows)
        if self.daily_tokens > 0 and tokens >= self.daily_tokens:
            return f"your daily budget of {self.daily_tokens:,} tokens is used up (it resets at midnight UTC)"
        if self.daily_cost_usd > 0 and cost >= self.daily_cost_usd:
            return f"your daily budget of ${self.daily_cost_usd:.2f} is used up (it resets at midnight UTC)"
        return ""

    async def admit(self, user: str, texts: list[str], *, admin: bool = False) -> None:
        """Every check a new message goes through, cheapest first; raises (and counts) `LimitExceeded`.

        The chat and the API both call this (through the answering pipeline), so a user's rate covers both.
        """
        try:
            for text in texts:
                self.check_message(text)
            await self.take_rate(user, admin=admin)
        except LimitExceeded as exc:
            count_limit_refusal(exc.limit)
            raise
