"""Per-message usage (backend, tokens, cost, latency) and its summaries for budgets and admins."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ._tables import message_usage
from .engine import writing
from .errors import database_errors
from .router_labels import AnswerRoute, store_answer_route


@dataclass(frozen=True)
class UsageRecord:
    step_id: str
    user_identifier: str
    backend: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    thread_id: str | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if self.prompt_tokens < 0 or self.completion_tokens < 0 or self.cost_usd < 0:
            raise ValueError("token counts and cost cannot be negative")


@dataclass(frozen=True)
class UsageSummary:
    user_identifier: str
    backend: str
    messages: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


async def record_usage(engine: AsyncEngine, record: UsageRecord, *, answer_route: AnswerRoute | None = None) -> None:
    """Store one message's usage, and which model wrote its answer when given (one transaction: after
    every answer, so one write instead of two); recording the same message again replaces them (a retry)."""
    values = asdict(record)
    values["created_at"] = record.created_at.astimezone(timezone.utc)  # SQLite keeps no offset
    with database_errors("record usage"):
        async with writing(engine) as conn:
            await conn.execute(message_usage.delete().where(message_usage.c.step_id == record.step_id))
            await conn.execute(message_usage.insert().values(**values))
            if answer_route is not None:
                await store_answer_route(conn, answer_route)


async def usage_summary(
    engine: AsyncEngine, user_identifier: str | None = None, since: datetime | None = None
) -> list[UsageSummary]:
    """Totals per user and backend; one user's, or everyone's (admins) when `user_identifier` is None."""
    u = message_usage.c
    query = sa.select(
        u.user_identifier, u.backend, sa.func.count().label("messages"),
        sa.func.sum(u.prompt_tokens).label("prompt_tokens"),
        sa.func.sum(u.completion_tokens).label("completion_tokens"),
        sa.func.sum(u.cost_usd).label("cost_usd"),
    ).group_by(u.user_identifier, u.backend).order_by(u.user_identifier, u.backend)
    if user_identifier is not None:
        query = query.where(u.user_identifier == user_identifier)
    if since is not None:
        query = query.where(u.created_at >= since.astimezone(timezone.utc))
    with database_errors("summarise usage"):
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
    return [
        UsageSummary(r.user_identifier, r.backend, int(r.messages), int(r.prompt_tokens or 0),
                     int(r.completion_tokens or 0), float(r.cost_usd or 0.0))
        for r in rows
    ]
