"""Which database the settings select, and how its connections are pooled."""

import asyncio

import pytest
from sqlalchemy import text

from persistence import database_url
from persistence.engine import POOL_SIZE, normalise_url
from settings import Settings


def test_default_is_a_sqlite_file_in_the_data_dir(tmp_path):
    assert database_url(Settings(DATA_DIR=tmp_path)) == f"sqlite+aiosqlite:///{tmp_path / 'hybrid_chat.db'}"


@pytest.mark.parametrize("raw", [
    "postgres://u:p@db:5432/chat", "postgresql://u:p@db:5432/chat", "postgresql+psycopg2://u:p@db:5432/chat",
])
def test_postgres_urls_use_asyncpg(raw, tmp_path):
    assert database_url(Settings(DATA_DIR=tmp_path, DATABASE_URL=raw)) == "postgresql+asyncpg://u:p@db:5432/chat"


def test_other_databases_are_refused_clearly():
    with pytest.raises(ValueError, match="PostgreSQL or SQLite"):
        normalise_url("mysql://u:p@db/chat")


def test_the_password_stays_out_of_the_settings_repr(tmp_path):
    settings = Settings(DATA_DIR=tmp_path, DATABASE_URL="postgresql://u:s3cret@db/chat")
    assert "s3cret" not in repr(settings)


async def test_the_data_layer_keeps_its_connections_between_bursts(layer):
    """A burst of concurrent reads opens connections once; the next burst reuses them (none are
    opened anew), on SQLite and PostgreSQL alike."""
    from sqlalchemy import event

    opened = []
    event.listen(layer.engine.sync_engine, "connect", lambda *_: opened.append(1))
    burst = POOL_SIZE

    async def read(together: asyncio.Barrier) -> None:
        async with layer.async_session() as session:
            await session.execute(text("SELECT 1"))
            await together.wait()  # every read holds its connection until all hold one

    await asyncio.gather(*(read(together) for together in [asyncio.Barrier(burst)] for _ in range(burst)))
    first = len(opened)
    await asyncio.gather(*(read(together) for together in [asyncio.Barrier(burst)] for _ in range(burst)))
    assert first <= burst and len(opened) == first
