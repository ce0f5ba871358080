"""Chainlit's SQLAlchemy data layer, corrected for SQLite and PostgreSQL.

Defects of the stock `SQLAlchemyDataLayer` (chainlit 2.12) fixed here, each covered by a test
that fails on the stock class (tests/persistence/test_data_layer.py):
- write errors were logged and swallowed: here they raise `PersistenceError`;
- lists (`tags`) and dicts (`modes`, `playerConfig`) were passed raw to the driver: SQLite
  rejected them (a thread lost its user, so history was empty and resume failed) and asyncpg
  rejected the dicts; here JSON columns are always JSON text and tags a JSON list on SQLite;
- JSON came back as strings on SQLite and as objects on asyncpg: here always decoded;
- `get_element` raised TypeError on NULL props;
- `createdAt` was naive local time with "Z" appended: here real UTC;
- `list_threads` loaded up to 1,000 threads with all their steps into Python: here one paged,
  filtered SQL query (newest first, search by name);
- no local storage for element files: keys are `<thread>/<element>/<name>` in a
  `LocalStorageClient`, served by the authenticated `/files` route.
A thread's owner, once set, never changes (an upsert cannot move a thread to another user).
Its writes take turns with the app's other writes on SQLite (`persistence.engine.write_turn`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.data.utils import queue_until_user_message
from chainlit.element import Element, ElementDict
from chainlit.logger import logger
from chainlit.step import StepDict
from chainlit.types import (
    Feedback,
    FeedbackDict,
    PageInfo,
    PaginatedResponse,
    Pagination,
    ThreadDict,
    ThreadFilter,
)
from chainlit.user import PersistedUser, User
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settings import Settings, get_settings

from .engine import create_engine, database_url, write_turn
from .errors import PersistenceError, database_errors
from .storage import LocalStorageClient, safe_file_name

STEP_COLUMNS = (
    "id", "name", "type", "threadId", "parentId", "streaming", "waitForAnswer", "isError",
    "metadata", "tags", "input", "output", "createdAt", "command", "start", "end", "generation",
    "showInput", "language", "indent", "defaultOpen", "autoCollapse", "modes",
)
ELEMENT_COLUMNS = (
    "id", "threadId", "type", "url", "chainlitKey", "name", "display", "objectKey", "size",
    "page", "language", "forId", "mime", "props", "autoPlay", "playerConfig",
)
JSON_COLUMNS = frozenset({"metadata", "generation", "modes", "props", "playerConfig"})
TAG_COLUMNS = frozenset({"tags"})
MAX_PAGE_SIZE = 100
ErrorHook = Callable[[PersistenceError], Awaitable[None]]


def utc_timestamp() -> str:
    """ISO-8601 UTC with fixed-width microseconds and "Z", so text order is time order."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def decode_json(value: Any) -> Any:
    """JSON column value as Python: SQLite returns text, asyncpg already-decoded objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _boolean(value: Any) -> bool | None:
    """SQLite returns booleans as 0/1; the frontend expects JSON booleans."""
    return None if value is None else bool(value)


def _like_pattern(search: str) -> str:
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class HybridDataLayer(SQLAlchemyDataLayer):
    """The data layer the app registers with `@cl.data_layer`."""

    def __init__(
        self,
        url: str,
        storage_provider: BaseStorageClient | None = None,
        show_logger: bool = False,
        on_error: ErrorHook | None = None,
    ):
        """`on_error` is awaited with every PersistenceError before it is raised, in the chainlit
        context of the failing call: the app uses it to tell the user the message was not saved.
        `outage` numbers the outages (failures until the next success are one), so the app can
        tell each user once per outage rather than once per failed step."""
        super().__init__(conninfo=url, storage_provider=storage_provider, show_logger=show_logger)
        # Chainlit's engine has SQLAlchemy's default pool; ours keeps its connections (see `engine.POOL_SIZE`).
        self.engine = create_engine(url)
        self.async_session = async_sessionmaker(bind=self.engine, expire_on_commit=False)
        self.on_error = on_error
        self.outage = 0
        self._failing = False
        self.is_sqlite = self.engine.dialect.name == "sqlite"

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> HybridDataLayer:
        """`DATABASE_URL` or DATA_DIR/hybrid_chat.db, files under DATA_DIR/files."""
        settings = settings or get_settings()
        storage = LocalStorageClient(Path(settings.data_dir) / "files")
        return cls(database_url(settings), storage_provider=storage)

    # ------------------------------------------------------------ SQL helpers
    async def execute_sql(self, query: str, parameters: dict) -> list[dict[str, Any]] | int:
        """Like the stock helper, but a failed statement raises PersistenceError."""
        reads = query.lstrip()[:6].upper() == "SELECT"
        async with self._transaction("run a database statement", writes=not reads) as session:
            result = await session.execute(text(query), parameters)
            if result.returns_rows:
                return self.clean_result([dict(row._mapping) for row in result.fetchall()])
            return result.rowcount

    @asynccontextmanager
    async def _transaction(self, action: str, *, writes: bool = True) -> AsyncIterator[AsyncSession]:
        """A session in a transaction; on SQLite a writing one waits its turn before taking a connection."""
        turn = write_turn(self.engine) if writes else nullcontext()
        try:
            with database_errors(action):
                async with turn, self.async_session() as session, session.begin():
                    yield session
        except PersistenceError as error:
            await self._report(error)
            raise
        self._failing = False  # the database answered: an outage, if any, is over

    async def _reported(self, action: str, operation: Awaitable[Any]) -> Any:
        """Await a file operation; its failure becomes a reported PersistenceError."""
        try:
            with database_errors(action):
                return await operation
        except PersistenceError as error:
            await self._report(error)
            raise

    async def _report(self, error: PersistenceError) -> None:
        """Tell the app (chainlit persists messages in background tasks, so it never sees the raise)."""
        if not self._failing:
            self._failing = True
            self.outage += 1
        if self.on_error is None:
            return
        try:
            await self.on_error(error)
        except Exception:  # the hook must not mask the original error
            logger.exception("on_error hook of the data layer failed")

    async def _rows(self, session: AsyncSession, query: str, parameters: dict) -> list[dict[str, Any]]:
        result = await session.execute(text(query), parameters)
        return [dict(row._mapping) for row in result.fetchall()]

    def _encode(self, column: str, value: Any) -> Any:
        """Python value -> what the driver accepts for `column` on this engine."""
        if value is None:
            return None
        if column in JSON_COLUMNS:
            return value if isinstance(value, str) else json.dumps(value)
        if column in TAG_COLUMNS:
            return json.dumps(list(value)) if self.is_sqlite else list(value)
        return value

    async def get_current_timestamp(self) -> str:
        return utc_timestamp()

    # ------------------------------------------------------------------ users
    async def create_user(self, user: User) -> PersistedUser | None:
        """Insert or update metadata in one statement (two first logins at once used to collide)."""
        await self.execute_sql(
            """INSERT INTO users ("id", "identifier", "createdAt", "metadata")
               VALUES (:id, :identifier, :createdAt, :metadata)
               ON CONFLICT ("identifier") DO UPDATE SET "metadata" = EXCLUDED."metadata" """,
            {
                "id": str(uuid.uuid4()),
                "identifier": str(user.identifier),
                "createdAt": utc_timestamp(),
                "metadata": json.dumps(user.metadata or {}),
            },
        )
        return await self.get_user(user.identifier)

    # ---------------------------------------------------------------- threads
    async def get_thread_author(self, thread_id: str) -> str:
        """The owner's identifier, or "" when the thread does not exist (chainlit answers 404)."""
        rows = await self.execute_sql('SELECT "userIdentifier" FROM threads WHERE "id" = :id', {"id": thread_id})
        if rows and rows[0]["userIdentifier"]:
            return rows[0]["userIdentifier"]
        return ""

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ) -> None:
        merged: dict[str, Any] = {}
        if metadata is not None:  # merged into what is stored (Chainlit's first message and HTTP requests send none)
            existing = await self.execute_sql('SELECT "metadata" FROM threads WHERE "id" = :id', {"id": thread_id})
            stored = decode_json(existing[0]["metadata"]) if existing else {}
            stored = stored if isinstance(stored, dict) else {}
            merged = {k: v for k, v in stored.items() if metadata.get(k, "") is not None}  # None deletes a key
            merged.update({k: v for k, v in metadata.items() if v is not None})
        user_identifier = None
        if user_id:
            found = await self.execute_sql('SELECT "identifier" FROM users WHERE "id" = :id', {"id": user_id})
            if not found:
                raise PersistenceError("cannot attach a thread to an unknown user")
            user_identifier = found[0]["identifier"]
        values = {
            "id": thread_id,
            "createdAt": utc_timestamp(),
            "name": name if name is not None else merged.get("name"),
            "userId": user_id,
            "userIdentifier": user_identifier,
            "tags": self._encode("tags", tags),
            "metadata": json.dumps(merged),
        }
        values = {k: v for k, v in values.items() if v is not None}
        # Without new metadata, a stored thread keeps its own ("{}" is only a new thread's).
        updated = ("name", "tags", "metadata") if metadata is not None else ("name", "tags")
        updates = [f'"{k}" = EXCLUDED."{k}"' for k in values if k in updated]
        # The owner is set once: a later upsert can never move the thread to another user.
        updates += [f'"{k}" = COALESCE(threads."{k}", EXCLUDED."{k}")' for k in values if k in ("userId", "userIdentifier")]
        columns = ", ".join(f'"{k}"' for k in values)
        placeholders = ", ".join(f":{k}" for k in values)
        conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        await self.execute_sql(
            f'INSERT INTO threads ({columns}) VALUES ({placeholders}) ON CONFLICT ("id") {conflict}', values
        )

    async def delete_thread(self, thread_id: str) -> None:
        """Feedback, elements, steps and thread in one transaction, then the thread's files."""
        async with self._transaction("delete a thread") as session:
            keys = await self._rows(
                session, 'SELECT "objectKey" FROM elements WHERE "threadId" = :id AND "objectKey" IS NOT NULL',
                {"id": thread_id},
            )
            for table in ("feedbacks", "elements", "steps"):
                await session.execute(text(f'DELETE FROM {table} WHERE "threadId" = :id'), {"id": thread_id})
            await session.execute(text('DELETE FROM threads WHERE "id" = :id'), {"id": thread_id})
        if self.storage_provider is not None:
            for row in keys:
                await self._reported("delete a thread's files", self.storage_provider.delete_file(object_key=row["objectKey"]))

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """One thread with its steps (and their feedback) and elements: three indexed queries."""
        async with self._transaction("read a thread", writes=False) as session:
            threads = await self._rows(session, 'SELECT * FROM threads WHERE "id" = :id', {"id": thread_id})
            if not threads:
                return None
            steps = await self._rows(
                session,
                """SELECT s.*, f."id" AS feedback_id, f."value" AS feedback_value, f."comment" AS feedback_comment
                   FROM steps s LEFT JOIN feedbacks f ON f."forId" = s."id"
                   WHERE s."threadId" = :id ORDER BY s."createdAt", s."id" """,
                {"id": thread_id},
            )
            elements = await self._rows(session, 'SELECT * FROM elements WHERE "threadId" = :id', {"id": thread_id})
        thread = self._thread_from_row(threads[0])
        by_id: dict[str, StepDict] = {}
        for row in steps:
            by_id[row["id"]] = self._step_from_row(row)
        thread["steps"] = list(by_id.values())
        thread["elements"] = [await self._element_from_row(row) for row in elements]
        return thread

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        """One page of a user's threads, newest first, filtered in SQL; no steps loaded."""
        if not filters.userId:
            raise ValueError("userId is required")
        page_size = max(1, min(pagination.first, MAX_PAGE_SIZE))
        conditions = ['t."userId" = :user_id']
        params: dict[str, Any] = {"user_id": filters.userId, "limit": page_size + 1}
        if filters.search:
            conditions.append("""LOWER(COALESCE(t."name", '')) LIKE :search ESCAPE '\\'""")
            params["search"] = _like_pattern(filters.search)
        if filters.feedback is not None:
            conditions.append(
                'EXISTS (SELECT 1 FROM feedbacks f WHERE f."threadId" = t."id" AND f."value" = :feedback)'
            )
            params["feedback"] = int(filters.feedback)
        if pagination.cursor:
            conditions.append(
                """(COALESCE(t."createdAt", ''), t."id") <
                   (SELECT COALESCE(c."createdAt", ''), c."id" FROM threads c WHERE c."id" = :cursor)"""
            )
            params["cursor"] = pagination.cursor
        rows = await self.execute_sql(
            f"""SELECT t.* FROM threads t WHERE {' AND '.join(conditions)}
                ORDER BY COALESCE(t."createdAt", '') DESC, t."id" DESC LIMIT :limit""",
            params,
        )
        page = [self._thread_from_row(row) for row in rows[:page_size]]
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=len(rows) > page_size,
                startCursor=page[0]["id"] if page else None,
                endCursor=page[-1]["id"] if page else None,
            ),
            data=page,
        )

    # ------------------------------------------------------------------ steps
    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        """Upsert a step (creating its thread row if needed) in one transaction."""
        step = dict(step_dict)
        if "showInput" in step:
            step["showInput"] = str(step["showInput"]).lower() if step["showInput"] is not None else None
        values = {
            column: self._encode(column, step[column])
            for column in STEP_COLUMNS
            if step.get(column) is not None and not (isinstance(step[column], dict) and not step[column])
        }
        values["metadata"] = json.dumps(step.get("metadata") or {})
        values.setdefault("streaming", False)
        keep_on_update = {"id"}
        if "createdAt" not in values:  # a message not sent yet: order it by arrival, once
            values["createdAt"] = utc_timestamp()
            keep_on_update.add("createdAt")
        columns = ", ".join(f'"{k}"' for k in values)
        placeholders = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f'"{k}" = EXCLUDED."{k}"' for k in values if k not in keep_on_update)
        async with self._transaction("save a message") as session:
            await session.execute(
                text('INSERT INTO threads ("id", "createdAt") VALUES (:id, :createdAt) ON CONFLICT ("id") DO NOTHING'),
                {"id": step["threadId"], "createdAt": utc_timestamp()},
            )
            await session.execute(
                text(f'INSERT INTO steps ({columns}) VALUES ({placeholders}) ON CONFLICT ("id") DO UPDATE SET {updates}'),
                values,
            )

    async def get_step(self, step_id: str) -> StepDict | None:
        rows = await self.execute_sql(
            """SELECT s.*, f."id" AS feedback_id, f."value" AS feedback_value, f."comment" AS feedback_comment
               FROM steps s LEFT JOIN feedbacks f ON f."forId" = s."id" WHERE s."id" = :id""",
            {"id": step_id},
        )
        return self._step_from_row(rows[-1]) if rows else None

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        rows = await self.execute_sql(
            """SELECT s.* FROM steps s JOIN threads t ON s."threadId" = t."id"
               WHERE t."userId" = :user_id AND CAST(s."metadata" AS TEXT) LIKE :pattern
               ORDER BY s."createdAt" DESC""",
            {"user_id": user_id, "pattern": '%"favorite": true%'},
        )
        steps = [self._step_from_row(row) for row in rows]
        return [step for step in steps if step["metadata"].get("favorite")]

    # --------------------------------------------------------------- feedback
    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Store thumbs/comment; one feedback per message, its thread taken from the message."""
        if not feedback.id:
            existing = await self.execute_sql('SELECT "id" FROM feedbacks WHERE "forId" = :for_id', {"for_id": feedback.forId})
            feedback.id = existing[0]["id"] if existing else str(uuid.uuid4())
        values = asdict(feedback)
        rowcount = await self.execute_sql(
            """INSERT INTO feedbacks ("id", "forId", "threadId", "value", "comment")
               SELECT :id, s."id", COALESCE(CAST(:threadId AS TEXT), s."threadId"), :value, :comment
               FROM steps s WHERE s."id" = :forId
               ON CONFLICT ("id") DO UPDATE SET "value" = EXCLUDED."value", "comment" = EXCLUDED."comment" """,
            values,
        )
        if not rowcount:
            raise PersistenceError("feedback refers to a message that is not stored")
        return feedback.id

    async def get_step_thread(self, step_id: str) -> str | None:
        """The thread a message belongs to (for ownership checks)."""
        rows = await self.execute_sql('SELECT "threadId" FROM steps WHERE "id" = :id', {"id": step_id})
        return rows[0]["threadId"] if rows else None

    async def get_feedback_thread(self, feedback_id: str) -> str | None:
        """The thread a feedback belongs to (for ownership checks)."""
        rows = await self.execute_sql('SELECT "threadId" FROM feedbacks WHERE "id" = :id', {"id": feedback_id})
        return rows[0]["threadId"] if rows else None

    # --------------------------------------------------------------- elements
    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        rows = await self.execute_sql(
            'SELECT * FROM elements WHERE "threadId" = :thread_id AND "id" = :element_id',
            {"thread_id": thread_id, "element_id": element_id},
        )
        return await self._element_from_row(rows[0]) if rows else None

    async def get_element_by_object_key(self, object_key: str) -> ElementDict | None:
        """The element stored under a file key (the `/files` route authorises by its thread)."""
        rows = await self.execute_sql('SELECT * FROM elements WHERE "objectKey" = :key', {"key": object_key})
        return await self._element_from_row(rows[0]) if rows else None

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        """Store the element's bytes (path or content) under its thread, then its row.

        An element given only by URL is recorded as a link; the server never fetches it.
        """
        if not element.for_id:
            return
        content: bytes | str | None = element.content
        if element.path:
            content = await self._reported("read an element file", asyncio.to_thread(Path(element.path).read_bytes))
        row: dict[str, Any] = dict(element.to_dict())
        if content is not None:
            if self.storage_provider is None:
                raise PersistenceError("no storage client is configured for element files")
            object_key = f"{element.thread_id}/{element.id}/{safe_file_name(element.name or 'file')}"
            uploaded = await self._reported("store an element file", self.storage_provider.upload_file(
                object_key=object_key, data=content, mime=element.mime or "application/octet-stream"
            ))
            row["url"], row["objectKey"] = uploaded.get("url"), uploaded.get("object_key")
        elif not element.url:
            raise ValueError("an element needs a url, a path or content")
        row["mime"] = element.mime or "application/octet-stream"
        values = {column: self._encode(column, row.get(column)) for column in ELEMENT_COLUMNS if row.get(column) is not None}
        columns = ", ".join(f'"{k}"' for k in values)
        placeholders = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f'"{k}" = EXCLUDED."{k}"' for k in values if k != "id")
        await self.execute_sql(
            f'INSERT INTO elements ({columns}) VALUES ({placeholders}) ON CONFLICT ("id") DO UPDATE SET {updates}',
            values,
        )

    # ------------------------------------------------------- row -> chainlit
    def _thread_from_row(self, row: dict[str, Any]) -> ThreadDict:
        metadata = decode_json(row.get("metadata"))
        return ThreadDict(
            id=row["id"],
            createdAt=row.get("createdAt"),
            name=row.get("name"),
            userId=row.get("userId"),
            userIdentifier=row.get("userIdentifier"),
            tags=decode_json(row.get("tags")),
            metadata=metadata if isinstance(metadata, dict) else {},
            steps=[],
            elements=[],
        )

    def _step_from_row(self, row: dict[str, Any]) -> StepDict:
        feedback = None
        if row.get("feedback_value") is not None:
            feedback = FeedbackDict(
                forId=row["id"], id=row.get("feedback_id"), value=row["feedback_value"],
                comment=row.get("feedback_comment"),
            )
        metadata = decode_json(row.get("metadata"))
        show_input = row.get("showInput")
        return StepDict(
            id=row["id"],
            name=row["name"],
            type=row["type"],
            threadId=row["threadId"],
            parentId=row.get("parentId"),
            command=row.get("command"),
            modes=decode_json(row.get("modes")),
            streaming=bool(row.get("streaming")),
            waitForAnswer=_boolean(row.get("waitForAnswer")),
            isError=_boolean(row.get("isError")),
            metadata=metadata if isinstance(metadata, dict) else {},
            tags=decode_json(row.get("tags")),
            input=(row.get("input") or "") if show_input not in (None, "false") else "",
            output=row.get("output") or "",
            createdAt=row.get("createdAt"),
            start=row.get("start"),
            end=row.get("end"),
            generation=decode_json(row.get("generation")),
            showInput=show_input,
            defaultOpen=_boolean(row.get("defaultOpen")),
            autoCollapse=_boolean(row.get("autoCollapse")),
            language=row.get("language"),
            feedback=feedback,
        )

    async def _element_from_row(self, row: dict[str, Any]) -> ElementDict:
        url = row.get("url")
        if self.storage_provider is not None and row.get("objectKey"):
            url = await self.storage_provider.get_read_url(object_key=row["objectKey"])
        props = decode_json(row.get("props"))
        return ElementDict(
            id=row["id"],
            threadId=row.get("threadId"),
            type=row.get("type"),
            chainlitKey=row.get("chainlitKey"),
            url=url,
            objectKey=row.get("objectKey"),
            name=row["name"],
            display=row.get("display"),
            size=row.get("size"),
            language=row.get("language"),
            page=row.get("page"),
            props=props if isinstance(props, dict) else {},
            autoPlay=_boolean(row.get("autoPlay")),
            playerConfig=decode_json(row.get("playerConfig")),
            forId=row.get("forId"),
            mime=row.get("mime"),
        )
