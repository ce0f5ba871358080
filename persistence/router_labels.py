"""What users teach the router: which model and route wrote each chat answer (so a thumbs up or
down says which model it rates), and their comparisons of a local with a cloud answer.

Stored per deployment, read back by the router's training export. Thumbs themselves stay in
Chainlit's `feedbacks` table (its own routes write them, behind the feedback guard); they are
joined here with the answer they rate.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._tables import answer_routes, route_comparisons
from .engine import writing
from .errors import database_errors

Route = Literal["local", "cloud"]
#: Which answer the user found better: the local one, the cloud one, or "both fine".
Preference = Literal["local", "cloud", "both"]
ROUTES = ("local", "cloud")
PREFERENCES = ("local", "cloud", "both")

# Chainlit's tables, only the columns read here (SQLAlchemy quotes the camel-case names).
_feedbacks = sa.table("feedbacks", sa.column("forId"), sa.column("threadId"), sa.column("value"))
_threads = sa.table("threads", sa.column("id"), sa.column("userIdentifier"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AnswerRoute:
    """One chat answer: the user's message, the model that wrote the whole answer and its route."""

    step_id: str
    user_identifier: str
    prompt: str
    model: str
    route: Route
    thread_id: str | None = None
    #: The router's complexity score for the message (None when complexity did not decide).
    strong_win_rate: float | None = None
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {self.route!r}")


@dataclass(frozen=True)
class Comparison:
    """A user's verdict on two answers to the same message, one local and one cloud."""

    user_identifier: str
    first_step_id: str
    second_step_id: str
    prompt: str
    local_model: str
    cloud_model: str
    #: Where the first answer came from; the second came from the other side.
    first_route: Route
    preference: Preference
    thread_id: str | None = None
    strong_win_rate: float | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.first_route not in ROUTES:
            raise ValueError(f"first_route must be one of {ROUTES}, not {self.first_route!r}")
        if self.preference not in PREFERENCES:
            raise ValueError(f"preference must be one of {PREFERENCES}, not {self.preference!r}")


@dataclass(frozen=True)
class Thumb:
    """A thumbs up (1) or down (0) on a chat answer, with the model and route that wrote it."""

    step_id: str
    user_identifier: str
    prompt: str
    model: str
    route: Route
    value: int
    strong_win_rate: float | None
    created_at: datetime


def _utc(values: dict) -> dict:
    values["created_at"] = values["created_at"].astimezone(timezone.utc)  # SQLite keeps no offset
    return values


async def record_answer_route(engine: AsyncEngine, answer: AnswerRoute) -> None:
    """Remember which model wrote an answer; recording the same answer again replaces it."""
    with database_errors("record the answer's route"):
        async with writing(engine) as conn:
            await store_answer_route(conn, answer)


async def store_answer_route(conn: AsyncConnection, answer: AnswerRoute) -> None:
    """`record_answer_route` inside the caller's transaction (the answer's usage is stored in the same one)."""
    await conn.execute(answer_routes.delete().where(answer_routes.c.step_id == answer.step_id))
    await conn.execute(answer_routes.insert().values(**_utc(asdict(answer))))


async def record_comparison(engine: AsyncEngine, comparison: Comparison) -> None:
    """Store a verdict; the same user judging the same answers again replaces the earlier verdict."""
    c = route_comparisons.c
    with database_errors("record the comparison"):
        async with writing(engine) as conn:
            await conn.execute(route_comparisons.delete().where(
                (c.user_identifier == comparison.user_identifier) & (c.first_step_id == comparison.first_step_id)
                & (c.second_step_id == comparison.second_step_id)))
            await conn.execute(route_comparisons.insert().values(**_utc(asdict(comparison))))


async def list_comparisons(engine: AsyncEngine, user_identifier: str | None = None) -> list[Comparison]:
    """Every stored comparison, oldest first (one user's when `user_identifier` is given)."""
    query = sa.select(route_comparisons).order_by(route_comparisons.c.created_at, route_comparisons.c.id)
    if user_identifier is not None:
        query = query.where(route_comparisons.c.user_identifier == user_identifier)
    with database_errors("read the comparisons"):
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
    return [Comparison(**{**row, "created_at": _aware(row["created_at"])}) for row in rows]


async def list_thumbs(engine: AsyncEngine) -> list[Thumb]:
    """Thumbs on answers whose model is known, oldest answer first.

    Only a thumb in the answer's own thread by the answer's own user counts: the feedback guard
    refuses others at the door, and this join would leave out any that got in another way.
    """
    a = answer_routes.c
    query = (
        sa.select(a.step_id, a.user_identifier, a.prompt, a.model, a.route, a.strong_win_rate, a.created_at,
                  _feedbacks.c.value)
        .join(_feedbacks, _feedbacks.c.forId == a.step_id)
        .join(_threads, _threads.c.id == _feedbacks.c.threadId)
        .where(_threads.c.userIdentifier == a.user_identifier, _feedbacks.c.value.in_((0, 1)))
        .order_by(a.created_at, a.step_id)
    )
    with database_errors("read the thumbs"):
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
    return [Thumb(**{**row, "value": int(row["value"]), "created_at": _aware(row["created_at"])}) for row in rows]


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
