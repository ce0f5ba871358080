"""The app creates and upgrades its schema itself, on both engines, keeping existing data."""

from __future__ import annotations

import asyncio

import pytest
from chainlit.types import Pagination, ThreadFilter
from sqlalchemy import inspect, text

from persistence import HybridDataLayer, create_engine, create_project, list_projects, upgrade_database
from persistence.migrate import current_revision, head_revision

CHAINLIT_TABLES = {"users", "threads", "steps", "elements", "feedbacks"}
OUR_TABLES = {"projects", "project_members", "message_usage", "rate_windows", "login_failures", "revoked_sessions"}


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_empty_database_is_created_at_head_and_upgrade_is_idempotent(empty_database_url):
    assert await current_revision(empty_database_url) is None
    await upgrade_database(empty_database_url)
    await upgrade_database(empty_database_url)
    assert await current_revision(empty_database_url) == head_revision() == "0005"
    assert CHAINLIT_TABLES | OUR_TABLES <= await table_names(empty_database_url)


async def test_previous_version_database_keeps_its_data(empty_database_url, storage, chainlit_context):
    await upgrade_database(empty_database_url, revision="0001")
    assert OUR_TABLES.isdisjoint(await table_names(empty_database_url))
    engine = create_engine(empty_database_url)
    async with engine.begin() as conn:
        for sql in (
            """INSERT INTO users ("id", "identifier", "metadata", "createdAt") VALUES ('u1', 'old-user', '{}', '2026-01-01T00:00:00.000000Z')""",
            """INSERT INTO threads ("id", "createdAt", "name", "userId", "userIdentifier", "metadata")
               VALUES ('t1', '2026-01-01T00:00:01.000000Z', 'Old chat', 'u1', 'old-user', '{"chat_profile": "Fast"}')""",
            """INSERT INTO steps ("id", "name", "type", "threadId", "streaming", "output", "createdAt")
               VALUES ('s1', 'old-user', 'user_message', 't1', false, 'hello from before', '2026-01-01T00:00:02.000000Z')""",
            """INSERT INTO feedbacks ("id", "forId", "threadId", "value") VALUES ('f1', 's1', 't1', 1)""",
        ):
            await conn.execute(text(sql))
    await engine.dispose()

    await upgrade_database(empty_database_url)

    assert await current_revision(empty_database_url) == head_revision()
    layer = HybridDataLayer(empty_database_url, storage_provider=storage)
    try:
        thread = await layer.get_thread("t1")
        assert thread["name"] == "Old chat" and thread["metadata"] == {"chat_profile": "Fast"}
        assert thread["steps"][0]["output"] == "hello from before"
        assert thread["steps"][0]["feedback"]["value"] == 1
        listed = await layer.list_threads(Pagination(first=5), ThreadFilter(userId="u1"))
        assert [t["id"] for t in listed.data] == ["t1"]
        await create_project(layer.engine, "old-user", "Migrated")
        assert [p.name for p in await list_projects(layer.engine, "old-user")] == ["Migrated"]
    finally:
        await layer.close()


@pytest.mark.postgres
async def test_instances_starting_together_migrate_once(postgres_server):
    url = postgres_server.create_database()
    # Without the advisory lock the three transactions deadlock on each other's DDL.
    await asyncio.wait_for(asyncio.gather(*(upgrade_database(url) for _ in range(3))), timeout=60)
    assert await current_revision(url) == head_revision()


async def test_unreachable_database_raises_a_clear_error(tmp_path):
    from persistence import PersistenceError

    with pytest.raises(PersistenceError, match="database unavailable"):
        await upgrade_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
