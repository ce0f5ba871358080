"""HybridDataLayer on SQLite and PostgreSQL; each stock defect is shown on chainlit's own layer first."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import chainlit as cl
import pytest
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.types import Feedback, Pagination, ThreadFilter
from sqlalchemy import event, inspect, text

from persistence import (
    HybridDataLayer, PersistenceError, UsageRecord, conversation_turns, record_usage, upgrade_database,
)


def message(thread_id: str, content: str, kind: str = "user_message", **fields) -> dict:
    """A step exactly as chainlit hands it to the data layer."""
    msg = cl.Message(content=content, author="alice" if kind == "user_message" else "Assistant", type=kind, **fields)
    msg.thread_id = thread_id
    msg.created_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return msg.to_dict()


def tool_step(thread_id: str, name: str, output: str) -> dict:
    step = cl.Step(name=name, type="tool", auto_collapse=True, default_open=False)
    step.thread_id = thread_id
    step.output = output
    return step.to_dict()


async def new_thread(layer, user, name: str = "chat", tags: list[str] | None = None) -> str:
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name=name, user_id=user.id, tags=tags, metadata={"chat_profile": "Fast"})
    return thread_id


async def execute(layer, sql: str, **params) -> None:
    async with layer.engine.begin() as conn:
        await conn.execute(text(sql), params)


# ------------------------------------------------------------------ stock defects, fixed


async def test_schema_has_every_column_chainlit_writes(layer, database_url):
    thread_id = str(uuid.uuid4())
    written = {
        "steps": set(message(thread_id, "x", command="c", modes={"m": "v"})) | set(tool_step(thread_id, "t", "o")),
        "elements": set(cl.Audio(name="a", content=b"x", auto_play=True, player_config={"a": 1}).to_dict()),
        "threads": {"id", "createdAt", "name", "userId", "userIdentifier", "tags", "metadata"},
    }
    async with layer.engine.connect() as conn:
        for table, keys in written.items():
            columns = await conn.run_sync(lambda sync, t=table: {c["name"] for c in inspect(sync).get_columns(t)})
            assert keys - {"feedback", "icon"} <= columns, f"{table} lacks {keys - columns}"


async def test_write_errors_raise_instead_of_being_swallowed(stock_layer, layer, new_user):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    await execute(layer, "DROP TABLE feedbacks")
    await execute(layer, "DROP TABLE elements")
    await execute(layer, "DROP TABLE steps")

    assert await stock_layer.create_step(message(thread_id, "lost")) is None  # stock: silently lost
    reported = []

    async def tell_user(error: PersistenceError) -> None:
        reported.append(error)

    layer.on_error = tell_user
    with pytest.raises(PersistenceError, match="database unavailable"):
        await layer.create_step(message(thread_id, "must not vanish"))
    assert len(reported) == 1 and "save a message" in str(reported[0])


async def test_failures_until_the_next_success_are_one_outage(layer, new_user):
    """The app tells a user once per outage, not once per failed step (three for one message)."""
    user = await new_user()
    thread_id = await new_thread(layer, user)
    assert layer.outage == 0
    await execute(layer, "ALTER TABLE steps RENAME TO steps_gone")
    for content in ("first", "second"):
        with pytest.raises(PersistenceError):
            await layer.create_step(message(thread_id, content))
    assert layer.outage == 1
    await execute(layer, "ALTER TABLE steps_gone RENAME TO steps")
    await layer.create_step(message(thread_id, "saved"))  # the database is back
    assert layer.outage == 1
    await execute(layer, "ALTER TABLE steps RENAME TO steps_gone")
    with pytest.raises(PersistenceError):
        await layer.create_step(message(thread_id, "third"))
    assert layer.outage == 2


async def test_tags_list_keeps_the_thread_owner(stock_layer, layer, new_user, database_url):
    """With chat profiles chainlit tags the thread: SQLite rejected the list and the thread lost its user."""
    user = await new_user()
    stock_thread = str(uuid.uuid4())
    await stock_layer.update_thread(stock_thread, user_id=user.id, tags=["Fast"])
    stock_author = await layer.get_thread_author(stock_thread)
    if database_url.startswith("sqlite"):
        assert stock_author == ""  # the stock defect on SQLite
    thread_id = await new_thread(layer, user, tags=["Fast"])

    thread = await layer.get_thread(thread_id)
    assert thread["userIdentifier"] == user.identifier and thread["tags"] == ["Fast"]
    listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=user.id))
    assert thread_id in [t["id"] for t in listed.data]


async def test_message_modes_dict_is_stored(stock_layer, layer, new_user):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    stock_step = message(thread_id, "stock", modes={"model": "local"})
    await stock_layer.create_step(stock_step)
    assert await layer.get_step(stock_step["id"]) is None  # stock: not JSON-encoded, message lost

    step = message(thread_id, "ours", modes={"model": "local"})
    await layer.create_step(step)
    stored = await layer.get_step(step["id"])
    assert stored["modes"] == {"model": "local"} and stored["output"] == "ours"


async def test_json_columns_come_back_decoded(stock_layer, layer, new_user, database_url):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    step = message(thread_id, "hi", metadata={"route": "local"})
    await layer.create_step(step)

    stock_thread = await stock_layer.get_thread(thread_id)
    if database_url.startswith("sqlite"):
        assert isinstance(stock_thread["metadata"], str)  # the stock defect on SQLite
        assert isinstance(stock_thread["steps"][0]["metadata"], str)
    thread = await layer.get_thread(thread_id)
    assert thread["metadata"] == {"chat_profile": "Fast"}
    assert thread["steps"][0]["metadata"] == {"route": "local"}
    assert thread["steps"][0]["isError"] is False


async def test_get_element_with_null_props(stock_layer, layer, new_user):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    await execute(layer, """INSERT INTO elements ("id", "threadId", "type", "name", "display")
                            VALUES ('e1', :t, 'text', 'n', 'inline')""", t=thread_id)
    with pytest.raises(TypeError):
        await stock_layer.get_element(thread_id, "e1")
    element = await layer.get_element(thread_id, "e1")
    assert element["props"] == {} and element["name"] == "n"


def test_created_at_is_utc_in_any_time_zone(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'tz.db'}"
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Jakarta"  # UTC+7, no daylight saving
    time.tzset()
    try:
        stock = asyncio.run(SQLAlchemyDataLayer(url).get_current_timestamp())
        ours = asyncio.run(HybridDataLayer(url).get_current_timestamp())
    finally:
        if previous is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = previous
        time.tzset()
    now = datetime.now(timezone.utc)

    def parse(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp.removesuffix("Z")).replace(tzinfo=timezone.utc)

    assert abs(parse(stock) - now) > timedelta(hours=6)  # stock: Jakarta wall clock labelled UTC
    assert abs(parse(ours) - now) < timedelta(minutes=5)


async def test_thread_owner_never_changes(stock_layer, layer, new_user):
    alice, mallory = await new_user(), await new_user()
    stock_thread = await new_thread(layer, alice)
    await stock_layer.update_thread(stock_thread, user_id=mallory.id)
    assert await layer.get_thread_author(stock_thread) == mallory.identifier  # stock: thread moved

    thread_id = await new_thread(layer, alice)
    await layer.update_thread(thread_id, user_id=mallory.id, name="renamed")
    thread = await layer.get_thread(thread_id)
    assert thread["userIdentifier"] == alice.identifier and thread["name"] == "renamed"


async def test_thread_metadata_is_merged_and_kept_when_none_is_given(layer, new_user):
    thread_id = await new_thread(layer, await new_user())
    await layer.update_thread(thread_id, metadata={"project": "p1"})
    await layer.update_thread(thread_id, name="renamed")  # Chainlit's rename and first message send no metadata
    thread = await layer.get_thread(thread_id)
    assert thread["name"] == "renamed" and thread["metadata"] == {"chat_profile": "Fast", "project": "p1"}
    await layer.update_thread(thread_id, metadata={"chat_profile": None, "private": True})  # None removes a key
    assert (await layer.get_thread(thread_id))["metadata"] == {"project": "p1", "private": True}
    fresh = str(uuid.uuid4())
    await layer.update_thread(fresh)
    assert (await layer.get_thread(fresh))["metadata"] == {}


async def test_unknown_thread_has_no_author(stock_layer, layer):
    with pytest.raises(ValueError):
        await stock_layer.get_thread_author("missing")  # chainlit turns this into HTTP 500
    assert await layer.get_thread_author("missing") == ""  # chainlit answers 404


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path):
    layer = HybridDataLayer(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'hybrid_chat.db'}")
    try:
        async with layer.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 10_000
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await layer.close()


async def test_concurrent_sessions_lose_no_message(layer, new_user):
    users = [await new_user() for _ in range(10)]
    threads = [await new_thread(layer, users[i % 10]) for i in range(100)]

    async def session(thread_id: str) -> list[str]:
        ids = []
        for turn in range(3):
            for step in (message(thread_id, f"q{turn}"), message(thread_id, f"a{turn}", "assistant_message")):
                await layer.create_step(step)
                ids.append(step["id"])
        return ids

    written = [i for ids in await asyncio.gather(*(session(t) for t in threads)) for i in ids]
    async with layer.engine.connect() as conn:
        stored = set((await conn.execute(text("SELECT id FROM steps"))).scalars())
    assert len(written) == 600 and stored == set(written)


async def test_sqlite_writes_take_turns_without_holding_connections(tmp_path, storage, chainlit_context):
    """Writers waiting for SQLite's one write lock must not hold the pool's connections (readers need them):
    the data layer's (chainlit's messages) and the app's own (usage) take turns together."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hybrid_chat.db'}"
    await upgrade_database(url)
    layer = HybridDataLayer(url, storage_provider=storage)
    held: list[int] = []
    event.listen(layer.engine.sync_engine, "checkout", lambda *_: held.append(layer.engine.pool.checkedout()))
    try:
        thread_id = str(uuid.uuid4())
        steps = [message(thread_id, f"m{i}") for i in range(20)]
        usages = [UsageRecord(step["id"], "alice", "gpt", "gpt-model", 10, 5, 0.0) for step in steps]
        await asyncio.gather(*(layer.create_step(step) for step in steps), *(record_usage(layer.engine, u) for u in usages))
        assert max(held) == 1  # one writer at a time; the other 39 waited without a connection
        async with layer.engine.connect() as conn:
            stored = set((await conn.execute(text("SELECT id FROM steps"))).scalars())
            counted = set((await conn.execute(text("SELECT step_id FROM message_usage"))).scalars())
        assert stored == counted == {step["id"] for step in steps}
    finally:
        await layer.close()


# ------------------------------------------------------------------------ behaviour


async def test_create_resume_delete(layer, new_user, storage):
    user = await new_user()
    thread_id = await new_thread(layer, user, name="Trip plan")
    question = message(thread_id, "Plan a trip")
    await layer.create_step(question)
    await layer.create_step(tool_step(thread_id, "Route", "local: private data"))
    answer = message(thread_id, "Day 1: ...", "assistant_message")
    await layer.create_step({**answer, "output": ""})
    await layer.update_step(answer)  # streamed answer completed
    citation = cl.Text(name="guide.pdf p.3", content="a passage", display="side", for_id=answer["id"])
    citation.thread_id = thread_id
    await layer.create_element(citation)
    await layer.create_step(message(thread_id, "And day 2?"))

    thread = await layer.get_thread(thread_id)
    assert [s["type"] for s in thread["steps"]] == ["user_message", "tool", "assistant_message", "user_message"]
    assert thread["steps"][1]["autoCollapse"] is True
    assert thread["elements"][0]["forId"] == answer["id"]
    assert conversation_turns(thread["steps"]) == [
        ("user", "Plan a trip"), ("assistant", "Day 1: ..."), ("user", "And day 2?"),
    ]

    file_path = storage.path_for(thread["elements"][0]["objectKey"])
    assert file_path.read_bytes() == b"a passage"
    await layer.delete_thread(thread_id)
    assert await layer.get_thread(thread_id) is None
    assert not file_path.exists()
    async with layer.engine.connect() as conn:
        for table in ("steps", "elements"):
            rows = (await conn.execute(text(f'SELECT count(*) FROM {table} WHERE "threadId" = :t'), {"t": thread_id}))
            assert rows.scalar() == 0


async def test_elements_with_files_and_links(layer, new_user, storage, tmp_path):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    step = message(thread_id, "see attachments")
    await layer.create_step(step)
    upload = tmp_path / "report.pdf"
    upload.write_bytes(b"%PDF-1.4 fake")
    pdf = cl.Pdf(name="../../report.pdf", path=str(upload), page=2, for_id=step["id"], mime="application/pdf")
    link = cl.Text(name="docs", url="http://127.0.0.1:9/never-fetched", for_id=step["id"])
    for element in (pdf, link):
        element.thread_id = thread_id
        await layer.create_element(element)

    stored_pdf = await layer.get_element(thread_id, pdf.id)
    assert stored_pdf["objectKey"].startswith(f"{thread_id}/{pdf.id}/")
    assert ".." not in stored_pdf["objectKey"] and stored_pdf["page"] == 2
    assert stored_pdf["url"] == f"/files/{stored_pdf['objectKey']}"
    assert storage.path_for(stored_pdf["objectKey"]).read_bytes() == b"%PDF-1.4 fake"
    stored_link = await layer.get_element(thread_id, link.id)
    assert stored_link["url"] == "http://127.0.0.1:9/never-fetched" and stored_link["objectKey"] is None
    assert (await layer.get_element_by_object_key(stored_pdf["objectKey"]))["id"] == pdf.id


async def test_feedback_is_stored_updated_and_deleted(layer, new_user):
    user = await new_user()
    thread_id = await new_thread(layer, user)
    answer = message(thread_id, "42", "assistant_message")
    await layer.create_step(answer)

    first = await layer.upsert_feedback(Feedback(forId=answer["id"], value=0, comment="wrong"))
    again = await layer.upsert_feedback(Feedback(forId=answer["id"], value=1, comment="actually right"))
    assert first == again  # one feedback per message, even when the UI sends no id
    step = (await layer.get_thread(thread_id))["steps"][0]
    assert step["feedback"] == {"forId": answer["id"], "id": first, "value": 1, "comment": "actually right"}
    assert (await layer.get_step(answer["id"]))["feedback"]["value"] == 1

    await layer.delete_feedback(first)
    assert (await layer.get_thread(thread_id))["steps"][0]["feedback"] is None
    with pytest.raises(PersistenceError):
        await layer.upsert_feedback(Feedback(forId="no-such-message", value=1))


async def test_list_threads_pages_newest_first_and_filters_in_sql(stock_layer, layer, new_user):
    alice, bob = await new_user(), await new_user()
    created = []
    for i in range(25):
        created.append(await new_thread(layer, alice, name=f"Quarterly report {i}" if i % 5 == 0 else f"chat {i}"))
    bob_thread = await new_thread(layer, bob, name="Quarterly report of bob")
    liked = message(created[3], "good answer", "assistant_message")
    await layer.create_step(liked)
    await layer.upsert_feedback(Feedback(forId=liked["id"], value=1))

    seen, cursor, pages = [], None, 0
    while True:
        page = await layer.list_threads(Pagination(first=10, cursor=cursor), ThreadFilter(userId=alice.id))
        seen += [t["id"] for t in page.data]
        pages += 1
        if not page.pageInfo.hasNextPage:
            break
        cursor = page.pageInfo.endCursor
    assert pages == 3 and seen == list(reversed(created))

    found = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=alice.id, search="REPORT"))
    assert [t["name"] for t in found.data] == [f"Quarterly report {i}" for i in (20, 15, 10, 5, 0)]
    assert bob_thread not in [t["id"] for t in found.data]
    stock_found = await stock_layer.list_threads(Pagination(first=10), ThreadFilter(userId=alice.id, search="REPORT"))
    assert stock_found.data == []  # stock searches message text only, never the thread name
    thumbs_up = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=alice.id, feedback=1))
    assert [t["id"] for t in thumbs_up.data] == [created[3]]
    assert (await layer.list_threads(Pagination(first=10), ThreadFilter(userId=alice.id, search="100%"))).data == []


async def test_users_are_created_once_and_updated(layer):
    first = await layer.create_user(cl.User(identifier="dana", metadata={"role": "user"}))
    again, _ = await asyncio.gather(
        layer.create_user(cl.User(identifier="dana", metadata={"role": "admin"})),
        layer.create_user(cl.User(identifier="dana", metadata={"role": "admin"})),
    )
    assert again.id == first.id and again.metadata == {"role": "admin"}
