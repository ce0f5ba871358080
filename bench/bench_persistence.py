"""Persistence benchmark: thread listing (ours vs chainlit 2.12's stock layer) and write throughput.

1. A user with 1,000 threads (6 messages each): time one sidebar page (`list_threads`, 20
   threads) with the stock `SQLAlchemyDataLayer` and with `HybridDataLayer`, same database,
   same run; and opening one thread (`get_thread`).
2. 100 concurrent sessions writing messages through `create_step`: messages persisted per
   second, and how many are missing afterwards.
Both on SQLite and on a throw-away PostgreSQL (Debian's postgresql; skipped when absent).

    .venv/bin/python bench/bench_persistence.py [--quick] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chainlit.data  # noqa: E402
from chainlit.context import init_http_context  # noqa: E402
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer  # noqa: E402
from chainlit.types import Pagination, ThreadFilter  # noqa: E402
from chainlit.user import User  # noqa: E402
from sqlalchemy import text  # noqa: E402

from persistence import HybridDataLayer, LocalStorageClient, upgrade_database, utc_timestamp  # noqa: E402

STEPS_PER_THREAD = 6


async def seed_threads(layer: HybridDataLayer, user_id: str, identifier: str, threads: int) -> list[str]:
    """Bulk-insert `threads` threads with STEPS_PER_THREAD messages each (direct SQL: seeding is not measured)."""
    thread_rows, step_rows = [], []
    for i in range(threads):
        thread_id = str(uuid.uuid4())
        stamp = f"2026-01-01T00:00:00.{i:06d}Z"
        thread_rows.append({"id": thread_id, "createdAt": stamp, "name": f"Chat {i}", "userId": user_id,
                            "userIdentifier": identifier, "metadata": "{}"})
        for j in range(STEPS_PER_THREAD):
            step_rows.append({"id": str(uuid.uuid4()), "name": identifier,
                              "type": "user_message" if j % 2 == 0 else "assistant_message",
                              "threadId": thread_id, "output": f"message {j} of chat {i} " + "lorem ipsum " * 20,
                              "createdAt": f"2026-01-01T00:{j:02d}:00.{i:06d}Z", "metadata": "{}"})
    async with layer.engine.begin() as conn:
        await conn.execute(text("""INSERT INTO threads ("id", "createdAt", "name", "userId", "userIdentifier", "metadata")
                                   VALUES (:id, :createdAt, :name, :userId, :userIdentifier, :metadata)"""), thread_rows)
        await conn.execute(text("""INSERT INTO steps ("id", "name", "type", "threadId", "streaming", "output", "createdAt", "metadata")
                                   VALUES (:id, :name, :type, :threadId, false, :output, :createdAt, :metadata)"""), step_rows)
    return [row["id"] for row in thread_rows]


async def timed(call, repeats: int) -> float:
    """Median seconds of `repeats` calls (after one warm-up)."""
    await call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def bench_listing(url: str, files: Path, threads: int) -> dict[str, float]:
    ours = HybridDataLayer(url, storage_provider=LocalStorageClient(files))
    stock = SQLAlchemyDataLayer(url, storage_provider=LocalStorageClient(files))
    try:
        user = await ours.create_user(User(identifier=f"heavy-{uuid.uuid4().hex[:6]}"))
        thread_ids = await seed_threads(ours, user.id, user.identifier, threads)
        page = Pagination(first=20)
        filters = ThreadFilter(userId=user.id)
        ours_page = await ours.list_threads(page, filters)
        stock_page = await stock.list_threads(page, filters)
        assert len(ours_page.data) == len(stock_page.data) == 20
        middle = thread_ids[len(thread_ids) // 2]
        return {
            "stock_list": await timed(lambda: stock.list_threads(page, filters), 3),
            "ours_list": await timed(lambda: ours.list_threads(page, filters), 20),
            "stock_get": await timed(lambda: stock.get_thread(middle), 10),
            "ours_get": await timed(lambda: ours.get_thread(middle), 10),
        }
    finally:
        await ours.close()
        await stock.close()


async def bench_writes(url: str, files: Path, layer_class, sessions: int, messages: int) -> tuple[float, int, int]:
    """(messages per second, written, missing) for `sessions` concurrent writers."""
    layer = layer_class(url, storage_provider=LocalStorageClient(files))
    try:
        user = await layer.create_user(User(identifier=f"load-{uuid.uuid4().hex[:6]}"))
        thread_ids = [str(uuid.uuid4()) for _ in range(sessions)]
        for thread_id in thread_ids:
            await layer.update_thread(thread_id, name="load", user_id=user.id)

        async def session(thread_id: str) -> list[str]:
            ids = []
            for i in range(messages):
                step = {"id": str(uuid.uuid4()), "threadId": thread_id, "name": user.identifier,
                        "type": "user_message" if i % 2 == 0 else "assistant_message",
                        "output": f"message {i}", "createdAt": utc_timestamp(), "streaming": False, "metadata": {}}
                try:
                    await layer.create_step(step)
                except Exception:  # ours raises on a failed write; count it as missing below
                    pass
                ids.append(step["id"])
            return ids

        start = time.perf_counter()
        written = [i for ids in await asyncio.gather(*(session(t) for t in thread_ids)) for i in ids]
        elapsed = time.perf_counter() - start
        async with layer.engine.connect() as conn:
            stored = set((await conn.execute(text('SELECT "id" FROM steps WHERE "threadId" IN (SELECT "id" FROM threads WHERE "userId" = :u)'),
                                             {"u": user.id})).scalars())
        missing = len(set(written) - stored)
        return len(stored) / elapsed, len(written), missing
    finally:
        await layer.close()


async def run_engine(name: str, url: str, files: Path, threads: int, sessions: int, messages: int) -> None:
    await upgrade_database(url)
    listing = await bench_listing(url, files, threads)
    print(f"\n[{name}] user with {threads} threads x {STEPS_PER_THREAD} messages")
    print(f"  list_threads (page of 20): stock {listing['stock_list'] * 1000:8.1f} ms   ours {listing['ours_list'] * 1000:6.2f} ms"
          f"   ratio {listing['stock_list'] / listing['ours_list']:6.1f}x")
    print(f"  get_thread (one thread):   stock {listing['stock_get'] * 1000:8.1f} ms   ours {listing['ours_get'] * 1000:6.2f} ms"
          f"   ratio {listing['stock_get'] / listing['ours_get']:6.1f}x")
    for label, layer_class in (("stock", SQLAlchemyDataLayer), ("ours", HybridDataLayer)):
        rate, written, missing = await bench_writes(url, files, layer_class, sessions, messages)
        print(f"  {sessions} concurrent sessions x {messages} messages, {label:5}: {rate:7.0f} messages/s persisted,"
              f" {missing} of {written} missing")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 threads, 20 sessions (a smoke run)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    threads, sessions, messages = (200, 20, 4) if args.quick else (1000, 100, 6)
    chainlit.data._data_layer, chainlit.data._data_layer_initialized = None, True
    init_http_context()
    with tempfile.TemporaryDirectory(prefix="bench-persistence-") as tmp:
        folder = Path(tmp)
        await run_engine("SQLite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", folder / "files", threads, sessions, messages)
        if args.no_postgres:
            return
        from tests.support.postgres import find_postgres_bin, running_postgres

        if find_postgres_bin() is None:
            print("\n[PostgreSQL] skipped: not installed")
            return
        with running_postgres() as server:
            await run_engine("PostgreSQL", server.create_database("bench"), folder / "files", threads, sessions, messages)


if __name__ == "__main__":
    asyncio.run(main())
