"""State that must hold across app instances: rate-limit windows, failed sign-ins, revoked sessions.

Kept in the app's database (PostgreSQL for several instances, SQLite for one; migration 0005)
so that every instance counts and refuses the same. Each change is one atomic statement
(`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`): PostgreSQL locks the row, SQLite the
database, so concurrent instances never read-modify-write over each other. Every row carries
`expires_at` (indexed); expired rows are deleted at most once a `SWEEP_EVERY_S` per process.

Times are epoch seconds passed in by the caller (its clock, injectable in tests): instances
must agree on them, so they need synchronised wall clocks (NTP), as any cluster does.
What a limit *is* (how many, how long, what to tell the user) is decided by the callers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ._tables import login_failures, rate_windows, revoked_sessions
from .engine import writing
from .errors import PersistenceError, database_errors

SWEEP_EVERY_S = 60.0
log = logging.getLogger("hybrid_chat.persistence")


@dataclass(frozen=True)
class RateWindow:
    """A key's current window after one more take: `count` takes (this one included) since `started_at`."""

    count: int
    started_at: float
    ends_at: float


class SharedState:
    """The shared counters and marks on one engine; every instance builds its own on the same database."""

    def __init__(self, engine: AsyncEngine) -> None:
        postgres = engine.dialect.name == "postgresql"
        # Every change is one statement, atomic by itself: on PostgreSQL autocommit spares the BEGIN
        # and COMMIT round trips (a third less time per change, measured); SQLite's are not round trips.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
        self._insert = postgresql.insert if postgres else sqlite.insert
        self._next_sweep_at = 0.0

    async def take(self, key: str, *, window_s: float, now: float) -> RateWindow:
        """Count one take for `key` in its window (one starts at the first take after the last ended).

        Refused takes count too: the caller compares `count` with its limit, and the window
        still ends at the same time, so counting them changes nothing but makes one statement enough.
        """
        t = rate_windows.c
        over = t.expires_at <= now
        statement = self._insert(rate_windows).values(key=key, started_at=now, count=1, expires_at=now + window_s)
        statement = statement.on_conflict_do_update(
            index_elements=[t.key],
            set_={
                "started_at": sa.case((over, now), else_=t.started_at),
                "count": sa.case((over, 1), else_=t.count + 1),
                "expires_at": sa.case((over, now + window_s), else_=t.expires_at),
            },
        ).returning(t.count, t.started_at, t.expires_at)
        with database_errors("count a message for the rate limit"):
            async with writing(self.engine) as conn:
                row = (await conn.execute(statement)).one()
        await self._sweep_if_due(now)
        return RateWindow(row.count, float(row.started_at), float(row.expires_at))

    async def login_failed(self, name: str, *, max_failures: int, lockout_s: float, now: float) -> float:
        """Record a failed sign-in of `name`; the `max_failures`-th within `lockout_s` locks it for `lockout_s`.

        Returns until when `name` is locked (epoch s; in the past when it is not). The failures
        are counted from the first one after the last lock or after `lockout_s` without a lock.
        """
        t = login_failures.c
        fresh = sa.or_(t.failures == 0, t.first_at <= now - lockout_s)
        failures = sa.case((fresh, 1), else_=t.failures + 1)
        locks = failures >= max_failures
        first_locks = max_failures <= 1
        statement = self._insert(login_failures).values(
            name=name, failures=0 if first_locks else 1, first_at=now,
            locked_until=now + lockout_s if first_locks else 0.0, expires_at=now + lockout_s,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[t.name],
            set_={
                "failures": sa.case((locks, 0), else_=failures),
                "first_at": sa.case((fresh, now), else_=t.first_at),
                "locked_until": sa.case((locks, now + lockout_s), else_=t.locked_until),
                "expires_at": now + lockout_s,  # nothing recorded before `now` matters for longer
            },
        ).returning(t.locked_until)
        with database_errors("record a failed sign-in"):
            async with writing(self.engine) as conn:
                locked_until = (await conn.execute(statement)).scalar_one()
        await self._sweep_if_due(now)
        return float(locked_until)

    async def locked_until(self, name: str) -> float:
        """Until when `name` is locked (epoch s); 0 when nothing is recorded."""
        query = sa.select(login_failures.c.locked_until).where(login_failures.c.name == name)
        with database_errors("read failed sign-ins"):
            async with self.engine.connect() as conn:
                return float((await conn.execute(query)).scalar_one_or_none() or 0.0)

    async def forget_login_failures(self, name: str) -> None:
        """A successful sign-in: `name`'s earlier failures no longer count."""
        with database_errors("clear failed sign-ins"):
            async with writing(self.engine) as conn:
                await conn.execute(login_failures.delete().where(login_failures.c.name == name))

    async def revoke(self, token_digest: str, *, expires_at: float, now: float) -> None:
        """Mark a session token (by its digest) revoked until it expires anyway."""
        statement = self._insert(revoked_sessions).values(token_digest=token_digest, expires_at=expires_at)
        statement = statement.on_conflict_do_nothing(index_elements=[revoked_sessions.c.token_digest])
        with database_errors("revoke a session"):
            async with writing(self.engine) as conn:
                await conn.execute(statement)
        await self._sweep_if_due(now)

    async def is_revoked(self, token_digest: str) -> bool:
        query = sa.select(sa.literal(1)).where(revoked_sessions.c.token_digest == token_digest)
        with database_errors("check a session"):
            async with self.engine.connect() as conn:
                return (await conn.execute(query)).first() is not None

    async def sweep(self, now: float) -> None:
        """Delete every expired row now (the writes do it by themselves every `SWEEP_EVERY_S`)."""
        with database_errors("delete expired shared state"):
            async with writing(self.engine) as conn:
                for table in (rate_windows, login_failures, revoked_sessions):
                    await conn.execute(table.delete().where(table.c.expires_at <= now))

    async def _sweep_if_due(self, now: float) -> None:
        """Sweep in a transaction of its own: inside the caller's, two instances could deadlock on their rows."""
        if now < self._next_sweep_at:
            return
        self._next_sweep_at = now + SWEEP_EVERY_S
        try:
            await self.sweep(now)
        except PersistenceError as exc:  # the write itself succeeded; the next sweep deletes these rows
            log.warning("expired shared state not deleted, retried in %.0f s: %s", SWEEP_EVERY_S, exc)
