"""Stored gateway API keys: who owns each, its visible prefix and a hash (never the key itself).

Generating keys and hashing them is the gateway's business; this module stores what it is
given and answers "which active key has this hash".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import writing
from .errors import database_errors

api_keys = sa.Table(
    "api_keys", sa.MetaData(),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("user_identifier", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class ApiKey:
    """A key as its owner may see it later: everything except the key."""

    id: str
    user_identifier: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _key(row: sa.Row) -> ApiKey:
    return ApiKey(row.id, row.user_identifier, row.name, row.prefix, _utc(row.created_at), _utc(row.revoked_at))


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


async def store_api_key(
    engine: AsyncEngine, *, key_id: str, user_identifier: str, name: str, prefix: str, key_hash: str
) -> ApiKey:
    """Store a new key's hash for `user_identifier`."""
    key = ApiKey(key_id, user_identifier, name, prefix, datetime.now(timezone.utc))
    with database_errors("store an API key"):
        async with writing(engine) as conn:
            await conn.execute(api_keys.insert().values(
                id=key.id, user_identifier=user_identifier, name=name, prefix=prefix, key_hash=key_hash,
                created_at=key.created_at,
            ))
    return key


async def find_active_api_key(engine: AsyncEngine, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, or None."""
    query = sa.select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    with database_errors("look up an API key"):
        async with engine.connect() as conn:
            row = (await conn.execute(query)).first()
    return _key(row) if row else None


async def list_api_keys(engine: AsyncEngine, user_identifier: str) -> list[ApiKey]:
    """One user's keys, newest first, revoked ones included (marked)."""
    query = (sa.select(api_keys).where(api_keys.c.user_identifier == user_identifier)
             .order_by(api_keys.c.created_at.desc(), api_keys.c.id))
    with database_errors("list API keys"):
        async with engine.connect() as conn:
            return [_key(row) for row in (await conn.execute(query)).all()]


async def revoke_api_key(engine: AsyncEngine, user_identifier: str, key_id: str) -> bool:
    """Revoke one of `user_identifier`'s own active keys; False when they have no such key."""
    query = (api_keys.update()
             .where(api_keys.c.id == key_id, api_keys.c.user_identifier == user_identifier,
                    api_keys.c.revoked_at.is_(None))
             .values(revoked_at=datetime.now(timezone.utc)))
    with database_errors("revoke an API key"):
        async with writing(engine) as conn:
            return (await conn.execute(query)).rowcount == 1
