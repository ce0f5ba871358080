"""Which database, and an async engine configured for it.

SQLite (the default) gets WAL, a busy timeout and foreign keys on every connection: without
WAL and the timeout, 100 concurrent chat sessions lost writes with "database is locked".
PostgreSQL URLs are normalised to the asyncpg driver.

SQLite lets one connection write at a time; this process's writers take turns (`write_turn`,
`writing`) before they take a pooled connection. Left to SQLite's busy handler, 20 chat messages
at once (chainlit writes several steps per message in background tasks) had all 15 pooled
connections held by writers sleeping for the lock, and the chat's reads before the model was
asked (the message's project) waited ~100 ms for a connection (bench/bench_concurrency.py).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from settings import Settings, get_settings

DATABASE_FILE = "hybrid_chat.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Connections the pool opens and keeps. With SQLAlchemy's default (5 kept, 10 more opened and closed
#: again), 20 users chatting at once opened and closed about 30 connections per round: 55 ms of the
#: app's CPU per message, 38 ms with this pool (bench/bench_concurrency.py).
POOL_SIZE = 15
#: SQLite writers' turns: a lock per connection pool and event loop (a lock belongs to one loop).
_write_turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def database_url(settings: Settings | None = None) -> str:
    """`DATABASE_URL` (driver forced to asyncpg/aiosqlite), else the SQLite file in DATA_DIR."""
    settings = settings or get_settings()
    raw = settings.database_url.get_secret_value().strip()
    if not raw:
        return f"sqlite+aiosqlite:///{Path(settings.data_dir) / DATABASE_FILE}"
    return normalise_url(raw)


def normalise_url(raw: str) -> str:
    """Accept `postgres://`, `postgresql://` and `sqlite://` spellings; use the async drivers."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    url = make_url(raw)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+asyncpg")
    elif url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL or SQLite URL, not {url.get_backend_name()!r}")
    return url.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (a fresh DATA_DIR)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`: a kept pool; SQLite's pragmas on every connection, PostgreSQL's pre-ping."""
    ensure_sqlite_folder(url)
    sqlite = is_sqlite(url)
    engine = create_async_engine(url, pool_pre_ping=not sqlite, pool_size=POOL_SIZE, max_overflow=0)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def write_turn(engine: AsyncEngine) -> AbstractAsyncContextManager:
    """Wait for this process's turn to write to `engine`'s SQLite database (PostgreSQL: no wait)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    turns = _write_turns.setdefault(engine.sync_engine.pool, weakref.WeakKeyDictionary())
    return turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.begin()` for a transaction that writes, in its turn (see the module docstring)."""
    async with write_turn(engine), engine.begin() as conn:
        yield conn
